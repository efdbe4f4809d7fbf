"""Full-text search over conversation snippets: build the index and score a snippet for a query.

DuckDB uses its FTS extension (BM25), loaded by `open_archive` from the duckdb-extension-fts wheel with
autoinstall/autoload off, so search works offline and on archives opened read-only. The DuckDB index is
a snapshot: rebuild it after snippets change (ingest does). PostgreSQL ranks with `ts_rank_cd` over
`to_tsvector('english', text)`, backed by a GIN expression index.
"""

from __future__ import annotations

from icp_mcp.archive.schema import conversation_snippets
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Engine,
    FromClause,
    bindparam,
    case,
    func,
    literal_column,
    text,
)

FTS_SCHEMA = "fts_main_conversation_snippets"
PG_INDEX = "ix_snippets_fts"
_PG_CONFIG = "'english'::regconfig"


def _dialect_name(obj: Engine | Connection | Dialect | str) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, (Engine, Connection)):
        return obj.dialect.name
    return obj.name


def _rebuild(conn: Connection) -> None:
    if conn.dialect.name == "duckdb":
        conn.exec_driver_sql(
            "PRAGMA create_fts_index('conversation_snippets', 'snippet_id', 'text', overwrite=1)"
        )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON conversation_snippets "
            f"USING GIN (to_tsvector({_PG_CONFIG}, text))"
        )


def rebuild_fts_index(engine_or_conn: Engine | Connection) -> None:
    """(Re)build the full-text index of `conversation_snippets` (DuckDB: BM25 index; PostgreSQL: GIN)."""
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            _rebuild(conn)
    else:
        _rebuild(engine_or_conn)


def has_fts_index(conn: Connection) -> bool:
    """True when the DuckDB BM25 index exists (always True on PostgreSQL, which ranks without one)."""
    if conn.dialect.name != "duckdb":
        return True
    found = conn.execute(
        text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"), {"s": FTS_SCHEMA}
    ).scalar_one()
    return bool(found)


def bm25_score(
    engine_or_dialect: Engine | Connection | Dialect | str, query: str, table: FromClause | None = None
) -> ColumnElement[float]:
    """An expression scoring a `conversation_snippets` row for `query`: higher is better, NULL = no match.

    `table` lets a caller score an alias of conversation_snippets. On DuckDB it is BM25 from the FTS
    index (build it with `rebuild_fts_index`); on PostgreSQL `ts_rank_cd` of the English tsvector.
    """
    snippets = table if table is not None else conversation_snippets
    q = bindparam("fts_query", query, unique=True)
    if _dialect_name(engine_or_dialect) == "duckdb":
        return getattr(func, FTS_SCHEMA).match_bm25(snippets.c.snippet_id, q)
    config = literal_column(_PG_CONFIG)
    vector = func.to_tsvector(config, snippets.c.text)
    tsquery = func.plainto_tsquery(config, q)
    return case((vector.op("@@")(tsquery), func.ts_rank_cd(vector, tsquery)), else_=None)

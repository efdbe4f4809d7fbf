"""Full-text search over conversation snippets: build the index and score a snippet for a query.

DuckDB uses its FTS extension (BM25), loaded by `open_archive` from the duckdb-extension-fts wheel with
autoinstall/autoload off, so search works offline and on archives opened read-only. The DuckDB index is
a snapshot: rebuild it after snippets change (ingest does). PostgreSQL ranks with `ts_rank_cd` over
`to_tsvector('english', text)`, backed by a GIN expression index.

On DuckDB the rebuild also writes two search tables into the index's schema (so they are dropped and
rebuilt with it, in the same transaction), for customer_voice's fast path:

* `voice_snippets`: each snippet's filter columns (account, time, speaker, topics, channel) and tone score,
  without its text, stored in time order, so a window reads only its days;
* `voice_postings`: the index's postings (term, snippet, term frequency, document length) grouped per
  (term, snippet) and stored in (term, time) order with the same filter columns, so a question reads only
  its terms' postings within its window, filters them there and ranks them with BM25 without touching the
  snippets.
"""

from __future__ import annotations

from icp_mcp.archive.schema import conversation_snippets
from icp_mcp.archive.tone import score_expression
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Float,
    FromClause,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
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
        build_search_tables(conn)
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


#: The search tables (DuckDB, in the index's schema; not part of `archive.schema`: derived from the index).
_SEARCH = MetaData()
_FILTER_COLUMNS = (
    ("account_id", String), ("occurred_at", DateTime), ("speaker", String), ("topics", String),
    ("channel", String), ("tone_score", Integer),
)
search_snippets = Table(
    "voice_snippets", _SEARCH, Column("snippet_id", BigInteger),
    *(Column(name, kind) for name, kind in _FILTER_COLUMNS), schema=FTS_SCHEMA,
)
search_postings = Table(
    "voice_postings", _SEARCH, Column("termid", BigInteger), Column("snippet_id", BigInteger),
    Column("tf", BigInteger), Column("len", BigInteger),
    *(Column(name, kind) for name, kind in _FILTER_COLUMNS), schema=FTS_SCHEMA,
)
_FILTERS = ", ".join(f"f.{name}" for name, _ in _FILTER_COLUMNS)


def build_search_tables(conn: Connection) -> None:
    """DuckDB: (re)build `voice_snippets` and `voice_postings` from the snippets and the FTS index just built.

    The tone score is the lexicon's (archive/tone.py), computed once per snippet here instead of per answer.
    At L (7.6M snippets, 38.5M postings) about 90 s and 0.3 GiB.
    """
    tone = score_expression(literal_column("s.text")).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True})
    conn.exec_driver_sql(f"""
        CREATE OR REPLACE TABLE {FTS_SCHEMA}.voice_snippets AS
        SELECT s.snippet_id, s.account_id, s.occurred_at, s.speaker, s.topics, c.channel,
               CAST({tone} AS INTEGER) AS tone_score
        FROM conversation_snippets AS s
        LEFT JOIN conversations AS c ON c.conversation_id = s.conversation_id
        ORDER BY s.occurred_at, s.snippet_id""")
    conn.exec_driver_sql(f"""
        CREATE OR REPLACE TABLE {FTS_SCHEMA}.voice_postings AS
        SELECT t.termid, f.snippet_id, t.tf, d.len, {_FILTERS}
        FROM (SELECT termid, docid, count(*) AS tf FROM {FTS_SCHEMA}.terms GROUP BY docid, termid) AS t
        JOIN {FTS_SCHEMA}.docs AS d ON d.docid = t.docid
        JOIN {FTS_SCHEMA}.voice_snippets AS f ON f.snippet_id = d.name
        ORDER BY t.termid, f.occurred_at, f.snippet_id""")


def has_search_tables(conn: Connection) -> bool:
    """True when the DuckDB search tables exist (an archive indexed before they were added has none)."""
    if conn.dialect.name != "duckdb":
        return False
    found = conn.execute(text(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s "
        "AND table_name IN ('voice_snippets', 'voice_postings')"), {"s": FTS_SCHEMA}).scalar_one()
    return found == 2


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


#: match_bm25's scoring, written out over the index's tables with its default k = 1.2 and b = 0.75 (the
#: same literals, so the same numeric types and the same scores), for every document holding a query term.
#: One join with `docs` gives both a posting's document length and the snippet id (docid → name is one to
#: one), so the scores are grouped by snippet id directly (at L one scan of `docs` fewer: ~20% of its CPU).
_BM25_SQL = f"""
SELECT subscores.snippet_id AS snippet_id, sum(subscores.subscore) AS score
FROM (
    SELECT docs.name AS snippet_id,
           (log(((((SELECT num_docs FROM {FTS_SCHEMA}.stats) - df) + 0.5) / (df + 0.5)) + 1)
            * ((tf * (1.2 + 1)) / (tf + (1.2 * ((1 - 0.75) + (0.75 * (len / (SELECT avgdl FROM {FTS_SCHEMA}.stats))))))))
             AS subscore
    FROM (SELECT termid, docid, count(*) AS tf FROM {FTS_SCHEMA}.terms
          WHERE termid >= :lowest AND termid <= :highest AND termid IN :termids GROUP BY docid, termid) AS term_tf
    JOIN {FTS_SCHEMA}.docs AS docs ON term_tf.docid = docs.docid
    JOIN {FTS_SCHEMA}.dict AS dict ON term_tf.termid = dict.termid
) AS subscores
GROUP BY subscores.snippet_id
"""


def query_term_ids(conn: Connection, query: str) -> list[int]:
    """DuckDB: the index's ids of the query's terms (tokenized and stemmed as `match_bm25` does)."""
    return [int(t) for t in conn.execute(text(
        f"SELECT termid FROM {FTS_SCHEMA}.dict WHERE term IN "
        f"(SELECT DISTINCT stem(unnest({FTS_SCHEMA}.tokenize(:q)), 'porter')) ORDER BY termid"), {"q": query}
    ).scalars()]


def bm25_matches(conn: Connection, query: str) -> FromClause:
    """DuckDB: `snippet_id, score` of every snippet matching `query`, scored as `bm25_score` scores it.

    One uncorrelated relation over the postings of the query's terms (looked up first, then bound as a
    list, with their range so that the scan of the postings skips the rest), where `match_bm25` per row is a correlated subquery that makes a filter over many snippets score
    every candidate (and read every candidate's text before it knows the matches). Sums of the per-term
    parts may differ from `match_bm25`'s in the last bit (summation order), never more.
    """
    ids = query_term_ids(conn, query) or [-1]
    stmt = text(_BM25_SQL).bindparams(bindparam("termids", ids, expanding=True), lowest=min(ids), highest=max(ids))
    return stmt.columns(snippet_id=BigInteger, score=Float).subquery("bm25_matches")


#: The same BM25 part per posting as `_BM25_SQL`, over a subquery `voice_hits` of postings joined to `dict`.
_SUBSCORE = (
    f"(log(((((SELECT num_docs FROM {FTS_SCHEMA}.stats) - voice_hits.df) + 0.5) / (voice_hits.df + 0.5)) + 1)"
    " * ((voice_hits.tf * (1.2 + 1)) / (voice_hits.tf + (1.2 * ((1 - 0.75) + (0.75 * (voice_hits.len"
    f" / (SELECT avgdl FROM {FTS_SCHEMA}.stats))))))))"
)


def bm25_search(conn: Connection, query: str, where: list[ColumnElement[bool]]) -> Select:
    """DuckDB: the snippets matching `query` among the postings meeting `where` (conditions over
    `search_postings` columns), with their filter columns and their BM25 `score`, as `bm25_matches` scores
    them (the per-term parts added in term order, so equal snippets get bit-equal scores).

    Reads only the query's terms' postings (a range of the term-sorted table) and, within them, the window's.
    """
    ids = query_term_ids(conn, query) or [-1]
    p = search_postings
    df = select(literal_column("termid"), literal_column("df")).select_from(
        text(f"{FTS_SCHEMA}.dict")).subquery("voice_dict")
    hits = (
        select(p, df.c.df)
        .join_from(p, df, df.c.termid == p.c.termid)
        .where(p.c.termid >= min(ids), p.c.termid <= max(ids), p.c.termid.in_(ids), *where)
        .subquery("voice_hits")
    )
    same = [func.any_value(hits.c[name]).label(name) for name, _ in _FILTER_COLUMNS]  # one value a snippet
    parts = [  # each term's part (one posting a snippet and term), added in term order: the same sum every time
        func.coalesce(func.sum(case((hits.c.termid == t, literal_column(_SUBSCORE, Float)))), literal_column("0.0"))
        for t in ids
    ]
    score = parts[0]
    for part in parts[1:]:
        score = score + part
    return select(hits.c.snippet_id, *same, score.label("score")).group_by(hits.c.snippet_id)

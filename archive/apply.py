"""Apply checked rows to the target archive: foreign keys, upsert by key, rejects (the target side of ingest).

Runs on the target connection with portable SQL, on DuckDB (where `_icp_good` is a view over the checked
rows) and on PostgreSQL (where the checked rows arrive by COPY into temporary tables).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.mappings import quote_ident, sql_str
from icp_mcp.archive.schema import metadata
from icp_mcp.archive.staging import good_and_bad_sql
from icp_mcp.archive.validate import key_columns
from sqlalchemy import Connection, text

_SINGULAR = {"accounts": "account", "opportunities": "opportunity", "contacts": "contact"}


def _temp_ddl(conn: Connection, table: str) -> tuple[str, str]:
    """CREATE TEMP TABLE statements for `_icp_good` (target types) and `_icp_bad` on the target."""
    dialect = conn.dialect
    cols = ", ".join(f"{quote_ident(c.name)} {c.type.compile(dialect=dialect)}" for c in metadata.tables[table].columns)
    good = f"CREATE TEMP TABLE _icp_good (_rid BIGINT, _line BIGINT, _raw TEXT, {cols})"
    bad = "CREATE TEMP TABLE _icp_bad (_rid BIGINT, _line BIGINT, _raw TEXT, reason TEXT)"
    return good, bad


def copy_into_postgres(conn: Connection, dk: Any, table: str, fmt: str) -> None:
    """Bulk-copy the checked rows from the in-process DuckDB into temp tables of the PostgreSQL target."""
    good_sql, bad_sql = good_and_bad_sql(table, fmt)
    good_ddl, bad_ddl = _temp_ddl(conn, table)
    conn.exec_driver_sql(good_ddl)
    conn.exec_driver_sql(bad_ddl)
    raw = conn.connection.driver_connection
    cols = ", ".join(quote_ident(c.name) for c in metadata.tables[table].columns)
    with tempfile.TemporaryDirectory(prefix="icp-ingest-") as tmp:
        for name, select, target_cols in (
            ("_icp_good", good_sql, f"_rid, _line, _raw, {cols}"),
            ("_icp_bad", bad_sql, "_rid, _line, _raw, reason"),
        ):
            out = os.path.join(tmp, f"{name}.csv")
            dk.execute(f"COPY ({select}) TO {sql_str(out)} (FORMAT csv, HEADER false)")
            with raw.cursor() as cur, cur.copy(f"COPY {name} ({target_cols}) FROM STDIN (FORMAT csv)") as cp, \
                    open(out, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    cp.write(chunk)


def _rejected_parent(parent: str, noun: str, key: str) -> str:
    """SQL: ' — that account was itself rejected (FILE line N: REASON)' when an earlier ingest refused the
    referenced row (its key appears as a JSON value in the rejected raw row), else NULL."""
    return (
        f"(SELECT ' — that {noun} was itself rejected (' || r.source || ' line ' || CAST(r.line AS VARCHAR) "
        f"|| ': ' || r.reason || ')' FROM ingest_rejects r WHERE r.table_name = '{parent}' "
        f"AND strpos(r.raw, '\"' || {key} || '\"') > 0 ORDER BY r.id DESC LIMIT 1)"
    )


def fk_checks(conn: Connection, table: str, candidates: str) -> None:
    """Record in `_icp_fk` and `_icp_bad` the `candidates` rows whose foreign keys (or, for accounts, domain)
    do not fit the target. On DuckDB `_icp_good` is a view that leaves them out; on PostgreSQL they are
    deleted from the `_icp_good` table."""
    for fk in sorted(metadata.tables[table].foreign_keys, key=lambda f: f.parent.name):
        col, parent, pcol = fk.parent.name, fk.column.table.name, fk.column.name
        noun = _SINGULAR.get(parent, parent)
        conn.exec_driver_sql(
            f"INSERT INTO _icp_fk SELECT g._rid, '{col}: unknown {noun} ''' || g.{col} || ''' (foreign key)' "
            f"|| coalesce({_rejected_parent(parent, noun, f'g.{col}')}, '') "
            f"FROM {candidates} g WHERE g.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{pcol} = g.{col})"
        )
    if table == "accounts":
        conn.exec_driver_sql(
            "INSERT INTO _icp_fk SELECT g._rid, 'domain: ''' || g.domain || ''' already belongs to account ''' "
            f"|| a.account_id || '''' FROM {candidates} g JOIN accounts a ON a.domain = g.domain "
            "AND a.account_id <> g.account_id"
        )
    conn.exec_driver_sql(
        f"INSERT INTO _icp_bad SELECT g._rid, g._line, g._raw, f.reason FROM {candidates} g "
        "JOIN (SELECT _rid, string_agg(reason, '; ' ORDER BY reason) AS reason FROM _icp_fk GROUP BY _rid) f "
        "ON f._rid = g._rid"
    )
    if conn.dialect.name != "duckdb":
        conn.exec_driver_sql("DELETE FROM _icp_good WHERE _rid IN (SELECT _rid FROM _icp_fk)")


def upsert(conn: Connection, table: str) -> dict[str, int]:
    """Insert new rows, update changed ones, leave identical ones alone; return counts by status."""
    t = metadata.tables[table]
    keys = key_columns(table)
    q = quote_ident
    on = " AND ".join(f"t.{q(k)} = g.{q(k)}" for k in keys)
    values = [c.name for c in t.columns if c.name not in keys]

    def same(c: str) -> str:
        if c == "attributes":
            return f"CAST(t.{q(c)} AS TEXT) IS NOT DISTINCT FROM CAST(g.{q(c)} AS TEXT)"
        return f"t.{q(c)} IS NOT DISTINCT FROM g.{q(c)}"

    unchanged = " AND ".join(same(c) for c in values) or "1 = 1"
    empty = conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None
    if empty:  # first load of this table: every row is new, no need to compare
        conn.exec_driver_sql("CREATE TEMP TABLE _icp_class AS SELECT _rid, 'new' AS status FROM _icp_good")
    else:
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE _icp_class AS SELECT g._rid, CASE WHEN t.{q(keys[0])} IS NULL THEN 'new' "
            f"WHEN {unchanged} THEN 'same' ELSE 'changed' END AS status "
            f"FROM _icp_good g LEFT JOIN {table} t ON {on}"
        )
    counts = {s: int(n) for s, n in conn.exec_driver_sql("SELECT status, count(*) FROM _icp_class GROUP BY status")}
    cols = ", ".join(q(c.name) for c in t.columns)
    if counts.get("new"):
        only_new = "" if empty else " WHERE _rid IN (SELECT _rid FROM _icp_class WHERE status = 'new')"
        conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _icp_good{only_new}")
    if counts.get("changed"):
        plain = [c for c in values if c != "domain"]
        changed = "g._rid IN (SELECT _rid FROM _icp_class WHERE status = 'changed')"
        if plain:
            sets = ", ".join(f"{q(c)} = g.{q(c)}" for c in plain)
            conn.exec_driver_sql(f"UPDATE {table} AS t SET {sets} FROM _icp_good g WHERE {on} AND {changed}")
        if "domain" in values:  # only where it changes: DuckDB re-checks a UNIQUE column on every update
            conn.exec_driver_sql(
                f"UPDATE {table} AS t SET domain = g.domain FROM _icp_good g "
                f"WHERE {on} AND {changed} AND t.domain IS DISTINCT FROM g.domain"
            )
    return counts


def record_rejects(conn: Connection, table: str, source: str) -> int:
    """Append this file's rejects to `ingest_rejects`, skipping any already recorded (same source, line, raw)."""
    count = text("SELECT count(*) FROM ingest_rejects WHERE table_name = :table AND source = :source")
    params = {"table": table, "source": source}
    before = int(conn.execute(count, params).scalar_one())
    conn.execute(
        text(
            'INSERT INTO ingest_rejects ("at", table_name, source, line, raw, reason) '
            "SELECT CAST(:at AS TIMESTAMP), CAST(:table AS VARCHAR), CAST(:source AS VARCHAR), "
            "b._line, b._raw, b.reason FROM _icp_bad b "
            "WHERE NOT EXISTS (SELECT 1 FROM ingest_rejects r WHERE r.table_name = CAST(:table AS VARCHAR) "
            "AND r.source = CAST(:source AS VARCHAR) AND r.line = b._line AND r.raw = b._raw)"
        ),
        {"at": utc_now(), **params},
    )
    return int(conn.execute(count, params).scalar_one()) - before

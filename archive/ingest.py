"""Ingest a CSV / Parquet / JSONL file into one archive table: validate set-based, keep the rejects.

The file is read by DuckDB's own readers into a staging table (every column VARCHAR, plus line number
and the raw row), mapped onto the canonical columns (`archive.mappings`) and checked with one SQL pass
(`archive.validate`). Rows with a reason go to `ingest_rejects`; the rest are checked against the
target (foreign keys, domains) and upserted by key, counting new, changed and unchanged rows. On a
DuckDB target all of this runs in the target's own connection; on PostgreSQL the file is read and
checked in an in-process DuckDB and the typed rows are bulk-copied (COPY) into temporary tables of the
target, where the foreign-key checks and the upsert run. Either way one transaction holds the good rows
and the rejects of a file, or nothing. Re-ingesting a file changes nothing and records no new rejects.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from icp_mcp.archive.db import load_fts
from icp_mcp.archive.fts import rebuild_fts_index
from icp_mcp.archive.mappings import (
    MappingError,
    check_target,
    mapped_select,
    quote_ident,
    required_source_columns,
    sql_str,
)
from icp_mcp.archive.schema import metadata
from icp_mcp.archive.snippets import build_snippets_where
from icp_mcp.archive.topics import Taxonomy, tag_topics_where
from icp_mcp.archive.validate import checked_select, duplicate_reasons_sql, key_columns
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, text

Progress = Callable[[float, float | None, str], None]

FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")
_SINGULAR = {"accounts": "account", "opportunities": "opportunity", "contacts": "contact"}
_VIEWS = ("_icp_good", "_icp_valid")  # views on DuckDB (no copy of the checked rows); _icp_good a table on PG
_TEMP = ("_icp_raw", "_icp_checked", "_icp_dups", "_icp_bad", "_icp_fk",
         "_icp_class", "_icp_rej_scan", "_icp_rej_err", "_icp_badlines")


class IngestError(Exception):
    """The file could not be read at all (missing, unreadable, unknown table or mapping, no key column)."""


class IngestReport(BaseModel):
    """What one ingest did. `rejected` counts this file's bad rows; `rejects_recorded` the new ones stored."""

    table: str
    source: str
    mapping: str
    format: str
    read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_recorded: int = 0
    reasons: dict[str, int] = Field(default_factory=dict, description="reason (values masked) → rows")
    ignored_columns: list[str] = Field(default_factory=list)
    snippets: int | None = None
    topics: dict[str, int] | None = None
    seconds: float = 0.0


def detect_format(path: str) -> str:
    """csv, parquet or jsonl from the file name (a trailing .gz is allowed for csv and jsonl)."""
    name = path.lower()
    name = name.removesuffix(".gz")
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise IngestError(f"cannot tell the format of {path}: use a .csv, .csv.gz, .parquet or .jsonl file")


# ------------------------------------------------------------------------------------------ reading

def _drop_temp(run: Callable[[str], Any], views: bool) -> None:
    """Drop the working tables of an earlier run on this connection (`views`: DuckDB, where two are views)."""
    for name in _VIEWS:
        run(f"DROP {'VIEW' if views else 'TABLE'} IF EXISTS {name}")
    for name in _TEMP:
        run(f"DROP TABLE IF EXISTS {name}")


@dataclass(frozen=True)
class RawFile:
    """The file as read into `_icp_raw`: a SELECT with _rid, _line and its columns, and how to show a row."""

    select: str
    columns: list[str]
    rid: str  # 0-based row number of `_icp_raw r`
    raw: str  # the original row of `_icp_raw r` as text (JSON)


def _read(dk: Any, path: str, fmt: str, with_raw: bool) -> RawFile:
    """Read the file with DuckDB's own reader into `_icp_raw` (every value VARCHAR for CSV and JSONL).

    The returned SELECT has _rid, _line, _raw (the row's text when `with_raw`, else NULL) and the columns.
    """
    lit = sql_str(path)
    try:
        if fmt == "csv":
            dk.execute(
                f"CREATE TEMP TABLE _icp_raw AS SELECT * FROM read_csv({lit}, all_varchar = true, header = true, "
                "store_rejects = true, rejects_scan = '_icp_rej_scan', rejects_table = '_icp_rej_err')"
            )
        elif fmt == "parquet":
            dk.execute(f"CREATE TEMP TABLE _icp_raw AS SELECT * FROM read_parquet({lit})")
        else:
            dk.execute(
                f"CREATE TEMP TABLE _icp_raw AS SELECT json FROM read_json_objects({lit}, format = 'newline_delimited')"
            )
    except duckdb.Error as exc:
        raise IngestError(f"cannot read {path} as {fmt}: {str(exc).splitlines()[0]}") from exc
    # rowids of a table created inside a transaction start at a large base: make them 0-based
    base = dk.execute("SELECT coalesce(min(rowid), 0) FROM _icp_raw").fetchone()[0]
    rid = f"(r.rowid - {base})"
    if fmt == "jsonl":
        keys = [r[0] for r in dk.execute(
            "SELECT k FROM (SELECT r.rowid AS rid, u.k, u.i FROM _icp_raw r, "
            "unnest(json_keys(r.json)) WITH ORDINALITY AS u(k, i)) GROUP BY k ORDER BY min(rid), min(i)"
        ).fetchall()]
        cols = "".join(f", r.json ->> {sql_str(k)} AS {quote_ident(k)}" for k in keys)
        raw = "CAST(r.json AS VARCHAR)"
        shown = raw if with_raw else "CAST(NULL AS VARCHAR)"
        select = f"(SELECT {rid} AS _rid, {rid} + 1 AS _line, {shown} AS _raw{cols} FROM _icp_raw r)"
        return RawFile(select, keys, rid, raw)
    columns = [r[0] for r in dk.execute("DESCRIBE _icp_raw").fetchall()]
    if fmt == "parquet":
        line = f"{rid} + 1"
    else:
        # CSV: line = record number counting the header as line 1, skipping lines the CSV reader rejected.
        dk.execute("CREATE TEMP TABLE _icp_badlines AS SELECT line, row_number() OVER (ORDER BY line) AS i "
                   "FROM (SELECT DISTINCT line FROM _icp_rej_err)")
        has_bad = dk.execute("SELECT count(*) FROM _icp_badlines").fetchone()[0]
        line = (f"{rid} + 2 + (SELECT count(*) FROM _icp_badlines b WHERE b.line - b.i - 1 <= {rid})"
                if has_bad else f"{rid} + 2")
    raw = "CAST(to_json(r) AS VARCHAR)"
    shown = raw if with_raw else "CAST(NULL AS VARCHAR)"
    return RawFile(f"(SELECT {rid} AS _rid, {line} AS _line, {shown} AS _raw, r.* FROM _icp_raw r)", columns, rid, raw)


def _validate(dk: Any, table: str, mapping: str, fmt: str, path: str, with_raw: bool) -> tuple[int, list[str], RawFile]:
    """Stage, map and check the file in DuckDB; leave `_icp_checked` (typed rows + `_reason`).

    `with_raw` carries every row's raw text along (needed when the rows leave DuckDB for PostgreSQL);
    otherwise raw text is made later for the rejected rows only.
    """
    source = _read(dk, path, fmt, with_raw)
    missing = required_source_columns(table, mapping, source.columns)
    if missing:
        shown = ", ".join(source.columns) or "none"
        raise IngestError(
            f"{path} has no column for {', '.join(missing)} (needed by {table}, mapping {mapping}); "
            f"columns found: {shown}"
        )
    exprs, ignored = mapped_select(table, mapping, source.columns)
    select = ", ".join(f"{e} AS {quote_ident(c)}" for c, e in exprs.items())
    stage = f"(SELECT r._rid, r._line, r._raw, {select} FROM {source.select} AS r) AS stage"
    dk.execute(f"CREATE TEMP TABLE _icp_checked AS {checked_select(table, stage)}")
    dk.execute(f"CREATE TEMP TABLE _icp_dups AS {duplicate_reasons_sql(table, '_icp_checked')}")
    read = dk.execute("SELECT count(*) FROM _icp_checked").fetchone()[0]
    if fmt == "csv":
        read += dk.execute("SELECT count(*) FROM _icp_badlines").fetchone()[0]
    return int(read), ignored, source


def _fill_raw(dk: Any, source: RawFile) -> None:
    """Give the rejected rows their raw text (computed for them only: cheap when few rows fail)."""
    dk.execute(
        f"UPDATE _icp_bad SET _raw = x.raw FROM (SELECT {source.rid} AS rid, {source.raw} AS raw FROM _icp_raw r "
        f"WHERE {source.rid} IN (SELECT _rid FROM _icp_bad WHERE _raw IS NULL)) AS x WHERE _icp_bad._rid = x.rid"
    )


def _good_and_bad_sql(table: str, fmt: str) -> tuple[str, str]:
    """DuckDB SELECTs for the valid typed rows and for the rejects (row and CSV-reader rejects)."""
    cols = ", ".join(quote_ident(c.name) for c in metadata.tables[table].columns)
    good = (f"SELECT _rid, _line, _raw, {cols} FROM _icp_checked WHERE _reason IS NULL "
            "AND _rid NOT IN (SELECT _rid FROM _icp_dups)")
    bad = ("SELECT _rid, _line, _raw, _reason AS reason FROM _icp_checked WHERE _reason IS NOT NULL "
           "UNION ALL SELECT c._rid, c._line, c._raw, d.reason FROM _icp_checked c JOIN _icp_dups d ON d._rid = c._rid")
    if fmt == "csv":
        bad += (" UNION ALL SELECT -CAST(line AS BIGINT), CAST(line AS BIGINT), min(csv_line), "
                "'csv: ' || string_agg(DISTINCT error_message, '; ') FROM _icp_rej_err GROUP BY line")
    return good, bad


# ------------------------------------------------------------------------------------------ target side

def _temp_ddl(conn: Connection, table: str) -> tuple[str, str]:
    """CREATE TEMP TABLE statements for `_icp_good` (target types) and `_icp_bad` on the target."""
    dialect = conn.dialect
    cols = ", ".join(f"{quote_ident(c.name)} {c.type.compile(dialect=dialect)}" for c in metadata.tables[table].columns)
    good = f"CREATE TEMP TABLE _icp_good (_rid BIGINT, _line BIGINT, _raw TEXT, {cols})"
    bad = "CREATE TEMP TABLE _icp_bad (_rid BIGINT, _line BIGINT, _raw TEXT, reason TEXT)"
    return good, bad


def _copy_into_postgres(conn: Connection, dk: Any, table: str, fmt: str) -> None:
    """Bulk-copy the checked rows from the in-process DuckDB into temp tables of the PostgreSQL target."""
    good_sql, bad_sql = _good_and_bad_sql(table, fmt)
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


def _fk_checks(conn: Connection, table: str, candidates: str) -> None:
    """Record in `_icp_fk` and `_icp_bad` the `candidates` rows whose foreign keys (or, for accounts, domain)
    do not fit the target. On DuckDB `_icp_good` is a view that leaves them out; on PostgreSQL they are
    deleted from the `_icp_good` table."""
    for fk in sorted(metadata.tables[table].foreign_keys, key=lambda f: f.parent.name):
        col, parent, pcol = fk.parent.name, fk.column.table.name, fk.column.name
        noun = _SINGULAR.get(parent, parent)
        conn.exec_driver_sql(
            f"INSERT INTO _icp_fk SELECT g._rid, '{col}: unknown {noun} ''' || g.{col} || ''' (foreign key)' "
            f"FROM {candidates} g WHERE g.{col} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{pcol} = g.{col})"
        )
    if table == "accounts":
        conn.exec_driver_sql(
            "INSERT INTO _icp_fk SELECT g._rid, 'domain: ''' || g.domain || ''' already belongs to account ''' "
            f"|| a.account_id || '''' FROM {candidates} g JOIN accounts a ON a.domain = g.domain "
            "AND a.account_id <> g.account_id"
        )
        if conn.dialect.name == "duckdb":
            _duckdb_domain_guard(conn, candidates)
    conn.exec_driver_sql(
        f"INSERT INTO _icp_bad SELECT g._rid, g._line, g._raw, f.reason FROM {candidates} g "
        "JOIN (SELECT _rid, string_agg(reason, '; ' ORDER BY reason) AS reason FROM _icp_fk GROUP BY _rid) f "
        "ON f._rid = g._rid"
    )
    if conn.dialect.name != "duckdb":
        conn.exec_driver_sql("DELETE FROM _icp_good WHERE _rid IN (SELECT _rid FROM _icp_fk)")


def _duckdb_domain_guard(conn: Connection, candidates: str) -> None:
    """DuckDB cannot update an indexed column (domain is UNIQUE) of a row a FOREIGN KEY points at.

    Only tables whose foreign key to accounts is really declared count (demo archives declare none).
    """
    children = [r[0] for r in conn.exec_driver_sql(
        "SELECT DISTINCT table_name FROM duckdb_constraints() "
        "WHERE constraint_type = 'FOREIGN KEY' AND referenced_table = 'accounts' ORDER BY 1"
    )]
    if not children:
        return
    referenced = " OR ".join(
        f"EXISTS (SELECT 1 FROM {quote_ident(t)} c WHERE c.account_id = a.account_id)" for t in children)
    conn.exec_driver_sql(
        "INSERT INTO _icp_fk SELECT g._rid, 'domain: changing ''' || coalesce(a.domain, '') || ''' to ''' "
        "|| coalesce(g.domain, '') || ''' is not possible on DuckDB once other tables reference the account' "
        f"FROM {candidates} g JOIN accounts a ON a.account_id = g.account_id "
        f"WHERE a.domain IS DISTINCT FROM g.domain AND ({referenced})"
    )


def _upsert(conn: Connection, table: str) -> dict[str, int]:
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
        if "domain" in values:  # only where it really changes (see _duckdb_domain_guard)
            conn.exec_driver_sql(
                f"UPDATE {table} AS t SET domain = g.domain FROM _icp_good g "
                f"WHERE {on} AND {changed} AND t.domain IS DISTINCT FROM g.domain"
            )
    return counts


def _record_rejects(conn: Connection, table: str, source: str) -> int:
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
        {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None), **params},
    )
    return int(conn.execute(count, params).scalar_one()) - before


def summarise_reasons(rows: list[tuple[str, int]], top: int = 10) -> dict[str, int]:
    """Group reasons by rule, values masked: "employees: '…' is not an integer" → rows, most frequent first."""
    counts: Counter[str] = Counter()
    for reason, n in rows:
        for fragment in reason.split("; "):
            masked = re.sub(r"'[^']*'", "'…'", fragment)
            masked = re.sub(r"(?<=: )[^' ]+(?= is )", "…", masked)
            masked = re.sub(r"line -?\d+", "line …", masked)
            counts[masked] += n
    return dict(counts.most_common(top))


# ------------------------------------------------------------------------------------------ entry point

def ingest_file(
    engine: Engine,
    table: str,
    path: str,
    mapping: str = "generic",
    progress: Progress | None = None,
    taxonomy: Taxonomy | None = None,
) -> IngestReport:
    """Validate `path` and load it into `table` of the archive behind `engine` in one transaction.

    Raises `IngestError` when nothing could be read (missing file, unknown format, table or mapping, no
    key column). Bad rows never raise: they are counted, summarised and kept in `ingest_rejects`.
    """
    started = time.perf_counter()
    try:
        check_target(table, mapping)
    except MappingError as exc:
        raise IngestError(str(exc)) from exc
    file = Path(path).expanduser()
    if not file.is_file():
        raise IngestError(f"cannot read {path}: no such file")
    if not os.access(file, os.R_OK):
        raise IngestError(f"cannot read {path}: permission denied")
    fmt = detect_format(str(file))
    source = str(file.resolve())
    report = IngestReport(table=table, source=source, mapping=mapping, format=fmt)
    steps = 6.0 if table == "conversations" else 4.0
    tick = progress or (lambda done, total, message: None)

    with engine.begin() as conn:
        on_duckdb = conn.dialect.name == "duckdb"
        if on_duckdb:
            dk = conn.connection.driver_connection
            _drop_temp(dk.execute, views=True)
        else:
            dk = duckdb.connect()
            load_fts(dk)  # also switches extension auto-install/-load off
            spill = Path(tempfile.gettempdir()) / "icp-mcp-ingest"  # big files spill here, not into the cwd
            dk.execute(f"SET temp_directory = {sql_str(str(spill))}")
        try:
            tick(0, steps, f"reading {file.name}")
            report.read, report.ignored_columns, source_file = _validate(
                dk, table, mapping, fmt, str(file), with_raw=not on_duckdb)
            tick(1, steps, "checking keys")
            if on_duckdb:
                good_sql, bad_sql = _good_and_bad_sql(table, fmt)
                dk.execute("CREATE TEMP TABLE _icp_fk (_rid BIGINT, reason TEXT)")
                dk.execute(f"CREATE TEMP VIEW _icp_valid AS {good_sql}")
                dk.execute("CREATE TEMP VIEW _icp_good AS SELECT * FROM _icp_valid "
                           "WHERE _rid NOT IN (SELECT _rid FROM _icp_fk)")
                dk.execute(f"CREATE TEMP TABLE _icp_bad AS {bad_sql}")
            else:
                _drop_temp(conn.exec_driver_sql, views=False)
                _copy_into_postgres(conn, dk, table, fmt)
                conn.exec_driver_sql("CREATE TEMP TABLE _icp_fk (_rid BIGINT, reason TEXT)")
            _fk_checks(conn, table, "_icp_valid" if on_duckdb else "_icp_good")
            if on_duckdb:
                _fill_raw(dk, source_file)
            tick(2, steps, f"writing {table}")
            counts = _upsert(conn, table)
            report.loaded, report.updated, report.unchanged = (
                counts.get("new", 0), counts.get("changed", 0), counts.get("same", 0))
            report.rejected = int(conn.exec_driver_sql("SELECT count(*) FROM _icp_bad").scalar_one())
            report.rejects_recorded = _record_rejects(conn, table, source)
            reasons = conn.exec_driver_sql("SELECT reason, count(*) FROM _icp_bad GROUP BY reason").all()
            report.reasons = summarise_reasons([(r, int(n)) for r, n in reasons])
            tick(3, steps, "rejects recorded")
            if table == "conversations" and (report.loaded or report.updated):
                where = ("conversation_id IN (SELECT g.conversation_id FROM _icp_good g JOIN _icp_class c "
                         "ON c._rid = g._rid WHERE c.status <> 'same')")
                tick(3, steps, "splitting snippets")
                report.snippets = build_snippets_where(conn, where)
                tick(4, steps, "tagging topics")
                report.topics = tag_topics_where(conn, where, taxonomy=taxonomy)
                tick(5, steps, "indexing for search")
                rebuild_fts_index(conn)
            tick(steps, steps, "done")
            _drop_temp(conn.exec_driver_sql, views=on_duckdb)
        finally:
            if not on_duckdb:
                dk.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report

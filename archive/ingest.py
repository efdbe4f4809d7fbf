"""Ingest a CSV / Parquet / JSONL file into one archive table: validate set-based, keep the rejects.

`archive.staging` reads the file with DuckDB's own readers and checks every row in one SQL pass (mapped by
`archive.mappings`, rules in `archive.validate`); `archive.apply` checks the good rows against the target
(foreign keys, domains), upserts them by key (new / changed / unchanged) and records the rejects. On a
DuckDB target all of this runs in the target's own connection; on PostgreSQL the file is checked in an
in-process DuckDB and the typed rows are bulk-copied (COPY) into temporary tables of the target. Either way
one transaction holds the good rows and the rejects of a file, or nothing, and bumps the archive generation
when it changed any row. Re-ingesting a file changes nothing and records no new rejects.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from icp_mcp.archive.apply import copy_into_postgres, fk_checks, record_rejects, upsert
from icp_mcp.archive import generation
from icp_mcp.archive.db import load_fts
from icp_mcp.archive.fts import rebuild_fts_index
from icp_mcp.archive.mappings import MappingError, check_target, sql_str, stage_warnings
from icp_mcp.archive.snippets import build_snippets_where
from icp_mcp.archive.staging import IngestError, fill_raw, good_and_bad_sql, stage_and_check, stage_breakdown
from icp_mcp.archive.topics import Taxonomy, tag_topics_where
from pydantic import BaseModel, Field
from sqlalchemy import Engine

__all__ = ["FORMATS", "IngestError", "IngestReport", "StageCount", "detect_format", "ingest_file", "summarise_reasons"]

Progress = Callable[[float, float | None, str], None]

FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")
_VIEWS = ("_icp_good", "_icp_valid")  # views on DuckDB (no copy of the checked rows); _icp_good a table on PG
_TEMP = ("_icp_raw", "_icp_checked", "_icp_dups", "_icp_bad", "_icp_fk",
         "_icp_class", "_icp_rej_scan", "_icp_rej_err", "_icp_badlines", "_icp_badjson")


class StageCount(BaseModel):
    """One source stage value of an opportunities file, the stage it was stored as, and its rows."""

    source: str | None
    stage: str | None = Field(description="open / won / lost, or the unknown value that was rejected")
    rows: int


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
    stages: list[StageCount] = Field(default_factory=list, description="opportunities: source stage → stage")
    warnings: list[str] = Field(default_factory=list, description="values stored or refused without a rule")
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
    stage_map: dict[str, str] | None = None,
) -> IngestReport:
    """Validate `path` and load it into `table` of the archive behind `engine` in one transaction.

    Raises `IngestError` when nothing could be read (missing file, unknown format, table or mapping, no
    key column). Bad rows never raise: they are counted, summarised and kept in `ingest_rejects`.
    `stage_map` (lower-cased source stage value → open / won / lost) maps an opportunities file's custom
    stages; the report counts every source stage value and warns about those no rule knew.
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

    generation.ensure_state_tables(engine)  # an archive made before the generation existed gets it here
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
            report.read, report.ignored_columns, source_file = stage_and_check(
                dk, table, mapping, fmt, str(file), with_raw=not on_duckdb, stage_map=stage_map)
            if table == "opportunities":
                breakdown = stage_breakdown(dk, mapping, source_file, stage_map)
                report.stages = [StageCount(source=v, stage=st, rows=n) for v, st, n in breakdown]
                report.warnings = stage_warnings(breakdown, mapping, source_file.columns, stage_map)
            tick(1, steps, "checking keys")
            if on_duckdb:
                good_sql, bad_sql = good_and_bad_sql(table, fmt)
                dk.execute("CREATE TEMP TABLE _icp_fk (_rid BIGINT, reason TEXT)")
                dk.execute(f"CREATE TEMP VIEW _icp_valid AS {good_sql}")
                dk.execute("CREATE TEMP VIEW _icp_good AS SELECT * FROM _icp_valid "
                           "WHERE _rid NOT IN (SELECT _rid FROM _icp_fk)")
                dk.execute(f"CREATE TEMP TABLE _icp_bad AS {bad_sql}")
            else:
                _drop_temp(conn.exec_driver_sql, views=False)
                copy_into_postgres(conn, dk, table, fmt)
                conn.exec_driver_sql("CREATE TEMP TABLE _icp_fk (_rid BIGINT, reason TEXT)")
            fk_checks(conn, table, "_icp_valid" if on_duckdb else "_icp_good")
            if on_duckdb:
                fill_raw(dk, source_file)
            tick(2, steps, f"writing {table}")
            counts = upsert(conn, table)
            report.loaded, report.updated, report.unchanged = (
                counts.get("new", 0), counts.get("changed", 0), counts.get("same", 0))
            report.rejected = int(conn.exec_driver_sql("SELECT count(*) FROM _icp_bad").scalar_one())
            report.rejects_recorded = record_rejects(conn, table, source)
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
            if report.loaded or report.updated:  # answers depend on these rows: a new generation
                generation.bump(conn)
            tick(steps, steps, "done")
            _drop_temp(conn.exec_driver_sql, views=on_duckdb)
        finally:
            if not on_duckdb:
                dk.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report

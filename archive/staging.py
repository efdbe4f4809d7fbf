"""Read a file with DuckDB's own readers and check every row in one set-based pass (the DuckDB side of ingest).

`read_file` loads the file into `_icp_raw` (CSV and JSON lines as VARCHAR, with a 0-based row id and the
file's line number); `stage_and_check` maps it onto the canonical columns (`archive.mappings`) and builds
`_icp_checked` (typed values + `_reason`, `archive.validate`) and `_icp_dups` (duplicate keys in the file).
"""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import duckdb
from icp_mcp.archive import csv_guard
from icp_mcp.archive.mappings import (
    mapped_select, quote_ident, required_source_columns, sql_str, stage_breakdown_exprs,
)
from icp_mcp.archive.schema import metadata
from icp_mcp.archive.validate import checked_select, duplicate_reasons_sql

MAX_LINE_BYTES = 64 * 1024 * 1024  # one JSON line (e.g. a long call transcript) may be this long


class IngestError(Exception):
    """The file could not be read at all (missing, unreadable, unknown table or mapping, no key column)."""


@dataclass(frozen=True)
class RawFile:
    """The file as read into `_icp_raw`: a SELECT with _rid, _line and its columns, and how to show a row."""

    select: str
    columns: list[str]
    rid: str  # 0-based row number of `_icp_raw r`
    raw: str  # the original row of `_icp_raw r` as text (JSON)


def _is_json_array(path: str) -> bool:
    """True when the file starts with '[' (a JSON array, not JSON lines)."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def _read_csv(dk: Any, path: str) -> None:
    """`read_csv` into `_icp_raw`, every value VARCHAR, unreadable records kept in `_icp_rej_err`.

    Lines over `csv_guard.MAX_LINE_BYTES` are left out of a temporary copy that DuckDB reads instead; each
    becomes a `_icp_rej_err` row at its own line number (DuckDB's line numbers are mapped back first)."""
    found = csv_guard.scan(path)
    source, tmp = path, None
    if found.long:
        fd, tmp = tempfile.mkstemp(prefix="icp-csv-", suffix=".csv")
        os.close(fd)
        csv_guard.copy_without(path, [x.line for x in found.long], tmp)
        source = tmp
    try:
        dk.execute(
            f"CREATE TEMP TABLE _icp_raw AS SELECT * FROM read_csv({sql_str(source)}, all_varchar = true, "
            "header = true, store_rejects = true, rejects_scan = '_icp_rej_scan', rejects_table = '_icp_rej_err', "
            f"max_line_size = {csv_guard.MAX_LINE_BYTES + 65536})"
        )
    finally:
        if tmp is not None:
            os.unlink(tmp)
    if not found.long:
        return
    dk.execute("CREATE TEMP TABLE _icp_cut (line BIGINT, i BIGINT)")
    dk.executemany("INSERT INTO _icp_cut VALUES (?, ?)", [(x.line, i + 1) for i, x in enumerate(found.long)])
    dk.execute("UPDATE _icp_rej_err SET line = line + (SELECT count(*) FROM _icp_cut c WHERE c.line - c.i + 1 <= "
               "_icp_rej_err.line)")
    limit = f"{csv_guard.MAX_LINE_BYTES:,}"
    dk.executemany(
        "INSERT INTO _icp_rej_err (scan_id, file_id, line, csv_line, error_type, error_message) "
        "VALUES (0, 0, ?, ?, 'LINE SIZE OVER MAXIMUM', ?)",
        [(x.line, x.preview + "…", f"over-long line: {x.length:,} bytes, the limit is {limit} bytes per line "
          "(ICP_MCP_MAX_CSV_LINE_BYTES)") for x in found.long])


def read_file(dk: Any, path: str, fmt: str, with_raw: bool) -> RawFile:
    """Read the file with DuckDB's own reader into `_icp_raw` (every value VARCHAR for CSV and JSONL).

    The returned SELECT has _rid, _line, _raw (the row's text when `with_raw`, else NULL) and the columns.
    """
    lit = sql_str(path)
    if os.path.getsize(path) == 0 or (fmt != "parquet" and csv_guard.scan(path).empty):
        raise IngestError(f"{path} is empty: no header and no rows (was the export cut short?)")
    try:
        if fmt == "csv":
            _read_csv(dk, path)
        elif fmt == "parquet":
            dk.execute(f"CREATE TEMP TABLE _icp_raw AS SELECT * FROM read_parquet({lit})")
        elif _is_json_array(path):  # a .json file holding one array of objects: "line" = element number
            dk.execute(f"CREATE TEMP TABLE _icp_raw AS SELECT CAST(json AS VARCHAR) AS json "
                       f"FROM read_json_objects({lit}, format = 'array')")
        else:
            # every physical line, blank ones included (as NULL), so that line numbers are exact and a line
            # that is not JSON becomes a reject instead of failing the file
            dk.execute(
                f"CREATE TEMP TABLE _icp_raw AS SELECT line AS json FROM read_csv({lit}, columns = {{'line': 'VARCHAR'}}, "
                "header = false, delim = chr(31), quote = '', escape = '', auto_detect = false, "
                f"max_line_size = {MAX_LINE_BYTES})"
            )
    except duckdb.Error as exc:
        raise IngestError(f"cannot read {path} as {fmt}: {str(exc).splitlines()[0]}") from exc
    # rowids of a table created inside a transaction start at a large base: make them 0-based
    base = dk.execute("SELECT coalesce(min(rowid), 0) FROM _icp_raw").fetchone()[0]
    rid = f"(r.rowid - {base})"
    if fmt == "jsonl":
        is_object = "(CASE WHEN json_valid(r.json) THEN json_type(r.json) END = 'OBJECT')"
        dk.execute(f"CREATE TEMP TABLE _icp_badjson AS SELECT {rid} + 1 AS line, r.json AS raw FROM _icp_raw r "
                   f"WHERE r.json IS NOT NULL AND NOT coalesce({is_object}, false)")
        keys = [r[0] for r in dk.execute(
            "SELECT k FROM (SELECT r.rowid AS rid, u.k, u.i FROM _icp_raw r, "
            f"unnest(json_keys(r.json)) WITH ORDINALITY AS u(k, i) WHERE {is_object}) "
            "GROUP BY k ORDER BY min(rid), min(i)"
        ).fetchall()]
        cols = "".join(f", r.json ->> {sql_str(k)} AS {quote_ident(k)}" for k in keys)
        raw = "r.json"
        shown = raw if with_raw else "CAST(NULL AS VARCHAR)"
        select = f"(SELECT {rid} AS _rid, {rid} + 1 AS _line, {shown} AS _raw{cols} FROM _icp_raw r WHERE {is_object})"
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


def stage_and_check(dk: Any, table: str, mapping: str, fmt: str, path: str, with_raw: bool,
                    stage_map: dict[str, str] | None = None) -> tuple[int, list[str], RawFile]:
    """Stage, map and check the file in DuckDB; leave `_icp_checked` (typed rows + `_reason`).

    `with_raw` carries every row's raw text along (needed when the rows leave DuckDB for PostgreSQL);
    otherwise raw text is made later for the rejected rows only.
    """
    source = read_file(dk, path, fmt, with_raw)
    missing = required_source_columns(table, mapping, source.columns)
    if missing:
        shown = ", ".join(source.columns) or "none"
        raise IngestError(
            f"{path} has no column for {', '.join(missing)} (needed by {table}, mapping {mapping}); "
            f"columns found: {shown}"
        )
    exprs, ignored = mapped_select(table, mapping, source.columns, stage_map)
    select = ", ".join(f"{e} AS {quote_ident(c)}" for c, e in exprs.items())
    stage = f"(SELECT r._rid, r._line, r._raw, {select} FROM {source.select} AS r) AS stage"
    dk.execute(f"CREATE TEMP TABLE _icp_checked AS {checked_select(table, stage)}")
    dk.execute(f"CREATE TEMP TABLE _icp_dups AS {duplicate_reasons_sql(table, '_icp_checked')}")
    read = dk.execute("SELECT count(*) FROM _icp_checked").fetchone()[0]
    if fmt in ("csv", "jsonl"):
        unreadable = "_icp_badlines" if fmt == "csv" else "_icp_badjson"
        read += dk.execute(f"SELECT count(*) FROM {unreadable}").fetchone()[0]
    return int(read), ignored, source


def stage_breakdown(dk: Any, mapping: str, source: RawFile, stage_map: dict[str, str] | None = None
                    ) -> list[tuple[str | None, str | None, int]]:
    """(source stage value, stage it maps to, rows) for every stage value of an opportunities file."""
    value, stage = stage_breakdown_exprs(mapping, source.columns, stage_map)
    rows = dk.execute(f"SELECT {value} AS v, {stage} AS s, count(*) AS n FROM {source.select} AS r "
                      "GROUP BY ALL ORDER BY n DESC, v").fetchall()
    return [(v, s, int(n)) for v, s, n in rows]


def fill_raw(dk: Any, source: RawFile) -> None:
    """Give the rejected rows their raw text (computed for them only: cheap when few rows fail)."""
    dk.execute(
        f"UPDATE _icp_bad SET _raw = x.raw FROM (SELECT {source.rid} AS rid, {source.raw} AS raw FROM _icp_raw r "
        f"WHERE {source.rid} IN (SELECT _rid FROM _icp_bad WHERE _raw IS NULL)) AS x WHERE _icp_bad._rid = x.rid"
    )


def good_and_bad_sql(table: str, fmt: str) -> tuple[str, str]:
    """DuckDB SELECTs for the valid typed rows and for the rejects (rows, and lines the reader could not parse)."""
    cols = ", ".join(quote_ident(c.name) for c in metadata.tables[table].columns)
    good = (f"SELECT _rid, _line, _raw, {cols} FROM _icp_checked WHERE _reason IS NULL "
            "AND _rid NOT IN (SELECT _rid FROM _icp_dups)")
    bad = ("SELECT _rid, _line, _raw, _reason AS reason FROM _icp_checked WHERE _reason IS NOT NULL "
           "UNION ALL SELECT c._rid, c._line, c._raw, d.reason FROM _icp_checked c JOIN _icp_dups d ON d._rid = c._rid")
    if fmt == "csv":
        bad += (" UNION ALL SELECT -CAST(line AS BIGINT), CAST(line AS BIGINT), min(csv_line), "
                "'csv: ' || string_agg(DISTINCT error_message, '; ') FROM _icp_rej_err GROUP BY line")
    if fmt == "jsonl":
        bad += (" UNION ALL SELECT -line, line, raw, 'json: line is not a JSON object' FROM _icp_badjson")
    return good, bad

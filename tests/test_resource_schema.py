"""`archive://schema` on an archive that lacks a table: only that table is reported missing."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.schema import metadata
from icp_mcp.resources.schema import render_schema


def _headings_without_audit_log(target: str) -> dict[str, str]:
    engine = open_archive(target, create=True)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE audit_log"))
        rendered = render_schema(engine)
    finally:
        engine.dispose()
    return dict(re.findall(r"^## (\w+) \((.*)\)$", rendered, re.M))


def _check(headings: dict[str, str]) -> None:
    assert set(headings) == {t.name for t in metadata.sorted_tables}
    assert headings.pop("audit_log") == "missing"
    assert set(headings.values()) == {"0 rows"}, "a missing table must not hide the counts of the others"


def test_one_missing_table_on_duckdb(tmp_path: Path) -> None:
    _check(_headings_without_audit_log(str(tmp_path / "a.duckdb")))


def test_one_missing_table_on_postgres(pg_url: str) -> None:
    _check(_headings_without_audit_log(pg_url))

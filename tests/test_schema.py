"""The schema is created whole, twice safely, on DuckDB files and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from typer.testing import CliRunner

from icp_mcp.archive.db import check_schema, open_archive
from icp_mcp.archive.schema import metadata
from icp_mcp.server.cli import app


def _tables(target: str) -> set[str]:
    return set(inspect(open_archive(target)).get_table_names())


def test_init_creates_every_table_on_duckdb(tmp_path):
    target = str(tmp_path / "a.duckdb")
    runner = CliRunner()
    first = runner.invoke(app, ["init", "--archive", target])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["init", "--archive", target])
    assert second.exit_code == 0
    assert {t.name for t in metadata.sorted_tables} <= _tables(target)
    check_schema(open_archive(target))


def test_init_creates_every_table_on_postgres(pg_url):
    result = CliRunner().invoke(app, ["init", "--archive", pg_url])
    assert result.exit_code == 0, result.output
    assert {t.name for t in metadata.sorted_tables} <= _tables(pg_url)

"""The archive handle: read-only tools cannot write, writes go through the single writer."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel
from sqlalchemy import text

from icp_mcp.surface import runner as common

from icp_mcp.surface.archive_access import ArchiveHandle, ArchiveReadOnly, ReadOnlyViolation, is_write_statement


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ("SELECT 1", False),
        ("  with x as (select 1) select * from x", False),
        ("CREATE TEMP TABLE t AS SELECT 1", False),
        ("INSERT INTO accounts VALUES (1)", True),
        ("update accounts set name = 'x'", True),
        ("CREATE TABLE t (a int)", True),
        ("DROP TABLE accounts", True),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", True),
        ("PRAGMA create_fts_index('a', 'b')", True),
        ("CHECKPOINT", True),
    ],
)
def test_write_statements_are_recognised(sql: str, writes: bool):
    assert is_write_statement(sql) is writes


def test_reader_refuses_writes_and_writer_commits(archive_path: Path):
    handle = ArchiveHandle(str(archive_path))
    try:
        with handle.reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 0
            with pytest.raises(ReadOnlyViolation):
                conn.execute(text("INSERT INTO accounts (account_id, name) VALUES ('a1', 'A')"))

        def insert(engine):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO accounts (account_id, name) VALUES ('a1', 'A')"))

        handle.write(insert)
        with handle.reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 1
    finally:
        handle.close()


def test_read_only_archive_refuses_the_writer(archive_path: Path):
    handle = ArchiveHandle(str(archive_path), read_only=True)
    try:
        with pytest.raises(ArchiveReadOnly, match="read-only"):
            handle.write(lambda engine: None)
    finally:
        handle.close()


class Count(BaseModel):
    n: int
    truncated: bool = False


async def test_a_query_past_the_timeout_is_interrupted_and_reported(archive_path: Path, monkeypatch):
    """A read tool that outlives QUERY_TIMEOUT_S gets a timeout error and its DuckDB query is interrupted."""
    finished: list[str] = []

    def slow(run: common.ToolRun) -> Count:
        try:
            with run.engine.connect() as conn:
                return Count(n=conn.execute(text("SELECT count(*) FROM range(1000000000000) a")).scalar_one())
        finally:
            finished.append("done")

    handle = ArchiveHandle(str(archive_path), read_only=True)
    server = MCPServer("t")
    spec = common.ToolSpec(name="slow", title="slow")

    @common.register_tool(server, spec)
    async def slow_tool(ctx: Context) -> Count:
        """Counts forever."""
        return await common.run_tool(ctx, handle, spec, {}, slow)

    monkeypatch.setattr(common, "QUERY_TIMEOUT_S", 0.5)
    try:
        async with Client(server) as client:
            result = await client.call_tool("slow", {})
        assert result.is_error and "timed out" in result.content[0].text

        for _ in range(200):  # the interrupted worker thread ends (no timing assertion: just wait for it)
            if finished:
                break
            await anyio.sleep(0.05)
        assert finished == ["done"]
        with handle.reader.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        handle.close()


def test_a_serving_process_bounds_duckdb_memory_and_lifts_the_bound_while_it_writes(tmp_path) -> None:
    """Reads share ICP_MCP_MEMORY_LIMIT (default 700MB: a server at 1M accounts stays under 1 GB RSS);
    a write runs under DuckDB's default, and the bound is back afterwards. A bad value names the variable."""
    import pytest as _pytest

    from icp_mcp.archive.db import create_schema, open_archive
    from icp_mcp.surface.archive_access import ArchiveHandle, _memory

    path = tmp_path / "m.duckdb"
    engine = open_archive(path, create=True)
    create_schema(engine)
    engine.dispose()

    def limit(engine) -> str:  # the buffer manager's own limit (DuckDB's RESET changes only the setting)
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT memory_limit FROM pragma_database_size()").scalar()

    handle = ArchiveHandle(str(path))
    try:
        unbounded = limit(handle.reader)  # in-process callers keep DuckDB's default; `serve` bounds it
        handle.bound_memory()
        bounded = limit(handle.reader)
        assert bounded != unbounded
        during = handle.write(limit)
        assert bounded.replace(" ", "") in ("667.5MiB", "700.0MB", "667.5MB"), bounded
        assert during != bounded
        assert limit(handle.reader) == bounded
    finally:
        handle.close()
    with _pytest.raises(ValueError, match="ICP_MCP_MEMORY_LIMIT"):
        _memory("lots")

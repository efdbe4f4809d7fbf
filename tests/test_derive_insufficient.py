"""Honest insufficiency over MCP: on an archive with 10 won deals, derive_icp refuses with the counts and a
tool that needs the ICP says the same, each in its one message line."""

from __future__ import annotations

import pytest
from mcp import Client
from test_engine_synth import synthetic_archive

from icp_mcp.server.app import archive_of, build_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("ten") / "ten.duckdb"
    engine, manifest = synthetic_archive(path, n_accounts=160, seed=5, won_cap=10)
    engine.dispose()
    assert manifest["won"] == 10
    srv = build_server(str(path))
    yield srv
    archive_of(srv).close()


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_derive_icp_refuses_with_the_counts_in_one_line(server):
    async with Client(server) as client:
        result = await client.call_tool("derive_icp", {})
    line = _text(result).splitlines()[0]  # the message line (machine-readable details may follow)
    assert result.is_error
    assert "found 10 won and" in line and "need at least 30 won and 30 lost" in line


async def test_a_tool_needing_the_icp_says_why_there_is_none(server):
    async with Client(server) as client:
        result = await client.call_tool("score_account", {"account": "a00001"})
    line = _text(result).splitlines()[0]
    assert result.is_error
    assert "no active ICP" in line and "found 10 won and" in line

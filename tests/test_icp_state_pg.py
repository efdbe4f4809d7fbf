"""Many processes, one archive: two real `icp-mcp serve` processes on one PostgreSQL archive give the same
answers, and an activation made through one is seen by the other on its next call (the archive generation)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from test_engine_synth import build_synthetic

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache
from icp_mcp.engine.sql.versions import save_version

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_BIN = Path(sys.executable).parent / "icp-mcp"
ICP_MCP = str(_BIN) if _BIN.exists() else (shutil.which("icp-mcp") or "icp-mcp")


def _server(url: str) -> StdioServerParameters:
    return StdioServerParameters(command=ICP_MCP, args=["serve", "--archive", url, "--transport", "stdio"],
                                 env={"PYTHONUNBUFFERED": "1"})


async def _answers(client: Client) -> dict:
    out = {}
    for tool, args in (("score_account", {"account": "a00007"}), ("best_customers", {"limit": 5}),
                       ("best_customers", {"limit": 5, "top_n": 12})):
        result = await client.call_tool(tool, args)
        assert not result.is_error, result.content
        out[f"{tool} {args}"] = result.structured_content
    return out


async def test_two_server_processes_on_one_postgres_archive(pg_url: str) -> None:
    engine = open_archive(pg_url)
    create_schema(engine)
    build_synthetic(engine, n_accounts=400, seed=4)
    first = derive_icp(engine)
    save_version(engine, first, "tests", status="active")
    state.build(engine)
    second = first.model_copy(update={"name": "Second ICP", "criteria": first.criteria[1:]})
    draft = save_version(engine, second, "tests")
    engine.dispose()
    cache.clear()

    async with Client(_server(pg_url)) as a, Client(_server(pg_url)) as b:
        seen_a, seen_b = await _answers(a), await _answers(b)
        assert seen_a == seen_b, "two processes on one archive give the same answers"
        assert seen_a["score_account {'account': 'a00007'}"]["score"]["icp_name"] == first.name

        activated = await a.call_tool("activate_icp", {"version": draft, "confirm": True})
        assert not activated.is_error, activated.content
        after_b = await _answers(b)  # b's very next call
        score_b = after_b["score_account {'account': 'a00007'}"]["score"]
        assert score_b["icp_name"] == "Second ICP"
        assert first.criteria[0].id not in {m["id"] for m in score_b["met"] + score_b["missed"]}
        assert after_b == await _answers(a), "and both agree again"

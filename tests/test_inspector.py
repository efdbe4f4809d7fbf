"""The MCP Inspector CLI (npx @modelcontextprotocol/inspector --cli) against our stdio and HTTP servers.

Skipped with a reason when npx is missing, unless ICP_MCP_REQUIRE_INSPECTOR=1 (then it fails).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from test_server_transports import ICP_MCP, http_server  # noqa: F401  (fixture)

pytestmark = [pytest.mark.inspector, pytest.mark.slow]

INSPECTOR = ["npx", "-y", "@modelcontextprotocol/inspector@2.12.0", "--cli"]


@pytest.fixture(scope="module")
def npx() -> str:
    found = shutil.which("npx")
    if found is None:
        if os.environ.get("ICP_MCP_REQUIRE_INSPECTOR") == "1":
            pytest.fail("npx is missing but ICP_MCP_REQUIRE_INSPECTOR=1")
        pytest.skip("npx is not installed (the MCP Inspector CLI runs through npx)")
    return found


def inspect_json(target: list[str], *args: str) -> dict:
    out = subprocess.run([*INSPECTOR, *target, *args], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def stdio_target(archive) -> list[str]:
    return [*ICP_MCP, "serve", "--archive", str(archive), "--read-only"]


def check(target: list[str], account: str) -> None:
    listed = inspect_json(target, "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert tools["score_account"]["annotations"]["readOnlyHint"] is True
    assert "outputSchema" in tools["score_account"]
    called = inspect_json(target, "--method", "tools/call", "--tool-name", "score_account",
                          "--tool-arg", f"account={account}")
    assert not called.get("isError"), called
    assert called["structuredContent"]["score"]["account_id"] == account
    assert called["structuredContent"]["score"]["tier"] in {"A", "B", "C", "D"}
    read = inspect_json(target, "--method", "resources/read", "--uri", "icp://current")
    assert read["contents"][0]["mimeType"] == "text/markdown"


def test_inspector_against_stdio(npx, icp_demo):
    check(stdio_target(icp_demo.path), icp_demo.best_customer_ids[0])


def test_inspector_against_http(npx, http_server, icp_demo):  # noqa: F811
    check([http_server, "--transport", "http"], icp_demo.best_customer_ids[0])

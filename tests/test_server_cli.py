"""Acceptance through `icp-mcp call` (the SDK's in-memory client behind a CLI)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_server_transports import ICP_MCP

pytestmark = pytest.mark.slow


def run_call(*args: str) -> subprocess.CompletedProcess:
    """`icp-mcp call` as a real subprocess."""
    return subprocess.run([*ICP_MCP, "call", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}, stdin=subprocess.DEVNULL)


def run_inline(*args: str):
    """`icp-mcp call` in this process (typer's runner): same code path, no interpreter start-up."""
    from typer.testing import CliRunner

    from icp_mcp.server.cli import app

    result = CliRunner().invoke(app, ["call", *args], env={"COLUMNS": "200"})
    return result


def test_call_score_account_json(icp_demo):
    account = icp_demo.best_customer_ids[0]
    out = run_call("score_account", "--archive", str(icp_demo.path), "--arg", f"account={account}", "--json")
    assert out.returncode == 0, out.stderr
    score = json.loads(out.stdout)["score"]
    for key in ("fit_score", "tier", "win_probability", "met", "missed"):
        assert key in score
    assert all("evidence" in hit for hit in score["met"])


def test_call_planted_disqualifier_is_tier_d(icp_demo):
    account, planted = icp_demo.disqualified_account()
    out = run_inline("score_account", "--archive", str(icp_demo.path), "--arg", f"account={account}", "--json")
    assert out.exit_code == 0, out.output
    score = json.loads(out.stdout)["score"]
    assert score["tier"] == "D"
    hit = next(h for h in score["disqualifiers"] if planted.attribute in h["condition"])
    assert hit["id"] and hit["evidence"]


def test_call_tool_error_exits_1_with_the_message(icp_demo):
    out = run_call("best_customers", "--archive", str(icp_demo.path), "--arg", "limit=0")
    assert out.returncode == 1 and "limit" in out.stderr and "Traceback" not in out.stderr


def test_call_usage_errors_exit_2(icp_demo):
    out = run_inline("score_account", "--archive", str(icp_demo.path), "--arg", "nonsense=1")
    assert out.exit_code == 2 and "allowed: account, attributes" in out.output
    out = run_inline("no_such_tool", "--archive", str(icp_demo.path))
    assert out.exit_code == 2 and "score_account" in out.output
    out = run_inline("score_account", "--archive", str(icp_demo.path), "--arg", "account")
    assert out.exit_code == 2 and "key=value" in out.output


def test_call_parses_values_by_schema(icp_demo):
    out = run_inline("best_customers", "--archive", str(icp_demo.path), "--arg", "limit=3", "--json")
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["items"]) == 3


def test_call_pretty_output(icp_demo):
    out = run_inline("best_customers", "--archive", str(icp_demo.path), "--arg", "limit=2")
    assert out.exit_code == 0 and '"items"' in out.stdout

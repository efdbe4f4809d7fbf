"""`icp-mcp ask`: a real HTTP round trip through the anthropic SDK to a fake Messages API on loopback."""

from __future__ import annotations

import os
import subprocess

import pytest

from fake_anthropic import FakeAnthropic, text, tool_use
from icp_mcp.server.agent import ask
from icp_mcp.server.app import archive_of, build_server
from test_server_transports import ICP_MCP

pytestmark = pytest.mark.slow


async def test_multi_turn_tool_use_carries_real_structured_content(icp_demo, monkeypatch):
    account = icp_demo.best_customer_ids[0]
    seen: dict = {}

    def first(body: dict) -> dict:
        names = {t["name"] for t in body["tools"]}
        assert {"score_account", "best_customers", "explain_disqualifier"} <= names, names
        assert not names & {"derive_icp", "activate_icp"}, "the agent gets read-only tools only"
        assert body["messages"][0]["content"] == f"Does {account} fit our ICP?"
        assert "score_account" in body["system"]
        return tool_use("score_account", {"account": account})

    def second(body: dict) -> dict:
        result = body["messages"][-1]["content"][0]
        assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_01"
        assert not result.get("is_error")
        lines = dict(line.split(": ", 1) for line in result["content"][0]["text"].splitlines() if ": " in line)
        assert lines["score.account_id"] == account  # the markdown text the model reads (surface.text_render)
        seen.update(tier=lines["score.tier"], fit_score=lines["score.fit_score"])
        return text(f"{account} is tier {seen['tier']} with fit {seen['fit_score']} [score_account].")

    server = build_server(str(icp_demo.path), read_only=True)
    with FakeAnthropic([first, second]) as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-fake")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        try:
            answer = await ask(server, f"Does {account} fit our ICP?", model="claude-fake")
        finally:
            archive_of(server).close()
        assert fake.errors == []
        assert len(fake.requests) == 2 and all(p.startswith("/v1/messages") for p in fake.paths)
        assert "sk-test-fake" in (fake.headers[0].get("x-api-key", "") + fake.headers[0].get("authorization", "")), fake.headers[0]
    assert f"tier {seen['tier']}" in answer.text and "[score_account]" in answer.text
    assert [c.name for c in answer.calls] == ["score_account"]
    assert "score_account(account=" in answer.citations()


def test_ask_cli_end_to_end_prints_answer_and_citations(icp_demo):
    account = icp_demo.best_customer_ids[0]
    steps = [lambda body: tool_use("score_account", {"account": account}),
             lambda body: text("It fits [score_account].")]
    with FakeAnthropic(steps) as fake:
        env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": fake.base_url}
        out = subprocess.run([*ICP_MCP, "ask", f"Does {account} fit?", "--archive", str(icp_demo.path)],
                             capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "It fits [score_account]." in out.stdout
    assert f"score_account(account='{account}')" in out.stdout


def test_ask_without_api_key_exits_2_with_one_line(archive_path):
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    out = subprocess.run([*ICP_MCP, "ask", "hello?", "--archive", str(archive_path)],
                         capture_output=True, text=True, timeout=120, env={**env, "COLUMNS": "200"})
    assert out.returncode == 2
    assert "ANTHROPIC_API_KEY" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr

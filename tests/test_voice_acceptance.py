"""The marketer's question on the demo archive: "what did my best 20 customers say about pricing last month?"

Through the in-memory client, streamable HTTP and the MCP Inspector CLI. Checks against the manifest: only the
20 best customers, only last month, and the planted pricing themes of the best customers among the top quotes.
"""

from __future__ import annotations

from datetime import date

import pytest
from mcp import Client

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.questions.value import best_customers
from icp_mcp.server.app import archive_of, build_server
from test_inspector import inspect_json, npx  # noqa: F401  (fixture)
from test_server_transports import http_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

TOP = 10


@pytest.fixture(scope="module")
def server(icp_demo):
    srv = build_server(str(icp_demo.path), read_only=True)
    yield srv
    archive_of(srv).close()


@pytest.fixture(scope="module")
def best20(icp_demo) -> set[str]:
    engine = open_archive(icp_demo.path, read_only=True)
    try:
        return {b.account_id for b in best_customers(engine, top_n=20, limit=20).items}
    finally:
        engine.dispose()


def question(icp_demo) -> dict:
    return {"topic": "pricing", "cohort": "best:20", "since": "last_month", "as_of": icp_demo.manifest.as_of}


def last_month(as_of: str) -> tuple[str, str]:
    day = date.fromisoformat(as_of)
    first = day.replace(day=1)
    prev = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return prev.isoformat(), (first.fromordinal(first.toordinal() - 1)).isoformat()


def check_answer(data: dict, icp_demo, best20: set[str]) -> None:
    lo, hi = last_month(icp_demo.manifest.as_of)
    quotes = data["quotes"]
    assert quotes, data["summary"]
    assert {q["account_id"] for q in quotes} <= best20
    assert all(lo <= q["date"] <= hi for q in quotes)
    assert all("pricing" in q["topics"] for q in quotes)
    themes = icp_demo.manifest.pricing_themes
    top = [q["text"].lower() for q in quotes[:TOP]]
    on_theme = [t for t in top if any(k in t for theme in themes for k in theme.keywords)]
    assert len(on_theme) >= TOP // 2, top
    texts = [q["text"].lower() for q in quotes]
    seen = {theme.id for theme in themes for t in texts if any(k in t for k in theme.keywords)}
    assert seen == {theme.id for theme in themes}
    assert sum(c["n"] for c in data["by_tone"]) == data["total"]
    assert sum(a["n"] for a in data["by_account"]) <= data["total"]
    assert data["accounts"] <= 20


async def test_marketer_question_in_memory(server, icp_demo, best20) -> None:
    async with Client(server) as client:
        result = await client.call_tool("customer_voice", question(icp_demo))
    assert not result.is_error, result.content
    check_answer(result.structured_content, icp_demo, best20)
    quote = result.structured_content["quotes"][0]
    assert quote["conversation_id"] and quote["snippet_id"] and quote["account_name"]


async def test_free_text_question_and_paging(server, icp_demo) -> None:
    args = {"question": "annual prepay discount", "cohort": "customers", "since": "90d",
            "as_of": icp_demo.manifest.as_of, "limit": 5}
    async with Client(server) as client:
        first = await client.call_tool("customer_voice", args)
        data = first.structured_content
        assert not first.is_error and len(data["quotes"]) == 5 and data["next_cursor"]
        second = await client.call_tool("customer_voice", {**args, "cursor": data["next_cursor"]})
    assert "prepay" in data["quotes"][0]["text"].lower() or "upfront" in data["quotes"][0]["text"].lower()
    ids = {q["snippet_id"] for q in data["quotes"]} & {q["snippet_id"] for q in second.structured_content["quotes"]}
    assert not ids


async def test_icp_and_tier_cohorts(server, icp_demo) -> None:
    async with Client(server) as client:
        for cohort in ("icp", "tier:A", "best"):
            result = await client.call_tool("customer_voice", {"topic": "security_compliance", "cohort": cohort,
                                                               "since": "90d", "as_of": icp_demo.manifest.as_of})
            assert not result.is_error, (cohort, result.content)
            assert result.structured_content["total"] >= 0


async def test_marketer_question_over_http(http_server, icp_demo, best20) -> None:  # noqa: F811
    async with Client(http_server) as client:
        result = await client.call_tool("customer_voice", question(icp_demo))
        bad = await client.call_tool("customer_voice", {"topic": "pricing", "cohort": "worst:3"})
    assert not result.is_error, result.content
    check_answer(result.structured_content, icp_demo, best20)
    assert bad.is_error and "cohort" in bad.content[0].text and "best:N" in bad.content[0].text


def test_marketer_question_through_the_inspector_cli(npx, http_server, icp_demo, best20) -> None:  # noqa: F811
    args = question(icp_demo)
    listed = inspect_json([http_server, "--transport", "http"], "--method", "tools/list")
    tools = {t["name"]: t for t in listed["tools"]}
    assert tools["customer_voice"]["annotations"]["readOnlyHint"] is True
    called = inspect_json([http_server, "--transport", "http"], "--method", "tools/call",
                          "--tool-name", "customer_voice", *[x for k, v in args.items()
                                                             for x in ("--tool-arg", f"{k}={v}")])
    assert not called.get("isError"), called
    check_answer(called["structuredContent"], icp_demo, best20)

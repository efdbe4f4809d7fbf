"""The surface a model reads stays small (issue 15), counted in o200k_base tokens (tests/tokens.py):
tool definitions (name, description, input schema) ≤ 1,500; the whole tools/list JSON ≤ 5,000; the server
instructions ≤ 400; each journey's default answer on demo S ≤ 1,500 tokens of text and ≤ 3,000 of structured
content, with its evidence (n, rates, intervals, ids) still in the text."""

from __future__ import annotations

import pytest
from mcp import Client

from icp_mcp.server.app import archive_of, build_server
from icp_mcp.server.instructions import INSTRUCTIONS
from tokens import count, tool_definitions

AS_OF = "2026-11-01"  # the demo's as_of (tests/server_demo.py)


@pytest.fixture
def server(icp_demo):
    server = build_server(str(icp_demo.path), read_only=True)
    yield server
    archive_of(server).close()


async def test_tool_listing_fits_its_budget(server):
    async with Client(server) as client:
        listed = await client.list_tools()
        instructions = client.instructions
    assert count(tool_definitions(listed.tools)) <= 1500
    assert count(listed.model_dump(mode="json", by_alias=True, exclude_none=True)) <= 5000
    assert instructions == INSTRUCTIONS and count(INSTRUCTIONS) <= 400


def _journeys(icp_demo) -> list[tuple[str, dict, list[str]]]:
    """(tool, arguments, what the text must show) for the five journeys of issue 15."""
    planted = icp_demo.manifest.disqualifiers[0]
    return [
        ("score_account", {"account": icp_demo.best_customer_ids[0]}, ["fit_score", "interval", "evidence.n"]),
        ("customer_voice", {"topic": "pricing", "cohort": "best:20", "since": "last_month", "as_of": AS_OF},
         ["snippet_id", "conversation_id", "total"]),
        ("feature_adoption", {"feature": icp_demo.manifest.feature_adoption["feature"], "as_of": AS_OF},
         ["interval", "churn_rate", "segment_names"]),
        ("check_drift", {"window": "90d", "as_of": AS_OF}, ["verdict", "interval", "p_value"]),
        ("explain_disqualifier", {"rule_id": planted.values[0].lower()}, ["interval", "recent", "n_exceptions"]),
    ]


async def test_each_journey_answers_in_one_compact_call(server, icp_demo):
    for name, args, shown in _journeys(icp_demo):
        async with Client(server) as client:
            result = await client.call_tool(name, args)
        text = "".join(getattr(block, "text", "") for block in result.content)
        assert not result.is_error, (name, text)
        assert count(text) <= 1500, (name, count(text))
        assert count(result.structured_content) <= 3000, name
        for word in shown:
            assert word in text, (name, word)

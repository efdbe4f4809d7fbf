"""feature_adoption on the demo archive (through the in-memory MCP client): the planted pattern shows.

The manifest plants SSO adoption of 70% in one segment (Software or Fintech, 200–1999 employees) against 15%
elsewhere, and a lower churn for adopters.
"""

from __future__ import annotations

import pytest
from mcp import Client

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.sql import versions
from icp_mcp.server.app import archive_of, build_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(icp_demo):
    srv = build_server(str(icp_demo.path), read_only=True)
    yield srv
    archive_of(srv).close()


async def adoption(server, icp_demo, **args) -> dict:
    planted = icp_demo.manifest.feature_adoption
    async with Client(server) as client:
        result = await client.call_tool("feature_adoption", {"feature": planted["feature"],
                                                             "as_of": icp_demo.manifest.as_of, **args})
    assert not result.is_error, result.content
    return result.structured_content


def planted_industries(icp_demo) -> set[str]:
    conds = icp_demo.manifest.feature_adoption["conditions"]
    return set(next(c["values"] for c in conds if c["attribute"] == "industry"))


async def test_planted_industries_adopt_most(server, icp_demo) -> None:
    data = await adoption(server, icp_demo, by="industry")
    ranked = [g for g in data["groups"] if not g["small"]]
    industries = planted_industries(icp_demo)
    assert {g["group"] for g in ranked[:len(industries)]} == industries
    assert data["highest"] in industries
    top = ranked[0]
    lo, hi = top["interval"]
    assert lo <= top["rate"] <= hi and top["events_per_adopter"] > 0 and top["active_users_per_adopter"] > 0


async def test_planted_segment_has_the_highest_adoption(server, icp_demo) -> None:
    data = await adoption(server, icp_demo, by="segment")
    engine = open_archive(icp_demo.path, read_only=True)
    try:
        definition = versions.active_icp(engine, required=False)
    finally:
        engine.dispose()
    top = next(g for g in data["groups"] if g["group"] == data["highest"])
    best = next(s for s in definition.segments if data["segment_names"][s.id] == top["group"])
    assert top["group"] == best.name  # groups carry the segment's business name, not its id
    industry = [c for c in best.conditions if c.attribute == "industry"]
    assert industry and set(industry[0].accepted()) <= planted_industries(icp_demo), best.name
    outside = next(g for g in data["groups"] if g["group"] == "(no segment)")
    assert top["interval"][0] > outside["interval"][1]  # the intervals do not overlap


async def test_summary_answers_retention_and_flags_overlap_and_paradox(server, icp_demo) -> None:
    data = await adoption(server, icp_demo, by="segment")
    overall, groups = data["overall"], data["groups"]
    assert data["retains_better"] is True and "Do adopters retain better? Yes" in data["summary"]
    total = sum(g["n"] for g in groups)  # an account may sit in several segments: the summary says so
    assert total >= overall["n"] and ("Groups overlap" in data["summary"]) == (total > overall["n"])
    if total > overall["n"]:
        assert f"their n add up to {total:,} over {overall['n']:,} customers" in data["summary"]
    # the planted adopters sit in the segments: inside them the churn gap shrinks well below the overall one
    gap = overall["non_adopters_retention"]["churn_rate"] - overall["adopters_retention"]["churn_rate"]
    inner = [g for g in groups if g["group"] in data["segment_names"].values() and g["adopters_retention"]["n"] >= 5
             and g["non_adopters_retention"]["n"] >= 5]
    vanished = [g for g in inner if g["non_adopters_retention"]["churn_rate"]
                - g["adopters_retention"]["churn_rate"] < gap / 2]
    assert vanished and data["paradox"] and "Simpson" in data["paradox"] and vanished[0]["group"][:40] in data["paradox"]


async def test_adopters_churn_less_and_icp_adopts_more(server, icp_demo) -> None:
    data = await adoption(server, icp_demo, by="icp")
    overall = data["overall"]
    assert overall["adopters_retention"]["n"] > 0 and overall["non_adopters_retention"]["n"] > 0
    assert overall["adopters_retention"]["churn_rate"] < overall["non_adopters_retention"]["churn_rate"]
    groups = {g["group"]: g for g in data["groups"]}
    assert groups["inside ICP"]["rate"] > groups["outside ICP"]["rate"]


async def test_unknown_feature_lists_the_known_ones(server, icp_demo) -> None:
    async with Client(server) as client:
        result = await client.call_tool("feature_adoption", {"feature": "teleportation"})
    assert result.is_error and icp_demo.manifest.feature_adoption["feature"] in result.content[0].text

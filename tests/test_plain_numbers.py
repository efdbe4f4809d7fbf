"""Plain numbers in every text and markdown field (money with magnitude, counts with separators, rates as
percentages), `missed` vs penalties, similar customers on the ICP's own attributes, what ranks a best customer."""

from __future__ import annotations

import re

import pytest
from mcp import Client

from icp_mcp.engine.model import numbers
from icp_mcp.server.app import archive_of, build_server

pytestmark = pytest.mark.slow

#: What a person should never have to read in a sentence: 3.65779e+08, 0.35421, 12345 (no separator).
#: (A small coefficient such as 0.0409 has three significant digits and reads fine.)
RAW_NUMBER = re.compile(
    r"\d(?:\.\d+)?e[+-]\d+|(?<![\d.])(?:[1-9]\d*\.\d{4,}|0\.0*[1-9]\d{3,})|(?<![\w.,-])\d{5,}(?![\w.,-])")
TEXT_FIELDS = {"summary", "message", "rule", "value_formula", "note", "text", "sentence", "paradox",
               "account_value", "ranked_by", "condition"}


def test_formatter() -> None:
    assert numbers.money(365_779_000) == "$366M"
    assert numbers.money(1_250_000) == "$1.25M" and numbers.money(12_500) == "$12.5k"
    assert numbers.money(950) == "$950" and numbers.money(-40_000) == "-$40k" and numbers.money(None) == "n/a"
    assert numbers.money(2_000_000_000) == "$2B"
    assert numbers.count(12345) == "12,345" and numbers.count(7) == "7"
    assert numbers.pct(0.1234) == "12%" and numbers.pct(0.036) == "3.6%" and numbers.pct(0.02) == "2%"
    assert numbers.pct(0.4567, 1) == "45.7%"
    assert numbers.attribute_value("annual_revenue", 3.65779e8) == "$366M"
    assert numbers.attribute_value("employees", 1239) == "1,239"
    assert numbers.attribute_value("founded_year", 2011) == "2011"


def texts(obj, key: str | None = None):
    """Every string under a text field of a result, recursively."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from texts(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from texts(v, key)
    elif isinstance(obj, str) and key in TEXT_FIELDS:
        yield obj


@pytest.fixture(scope="module")
def server(icp_demo):
    srv = build_server(str(icp_demo.path), read_only=True)
    yield srv
    archive_of(srv).close()


async def test_text_fields_read_as_plain_numbers(server, icp_demo) -> None:
    calls = [
        ("score_account", {"account": icp_demo.best_customer_ids[0]}),
        ("score_account", {"attributes": {"industry": "Software", "employees": 400, "annual_revenue": 3.65779e8}}),
        ("best_customers", {"limit": 5}),
        ("customer_voice", {"topic": "pricing", "since": "2000-01-01", "limit": 3}),
        ("check_drift", {"as_of": "2026-11-01"}),
        ("feature_adoption", {"feature": icp_demo.manifest.feature_adoption["feature"]}),
        ("explain_disqualifier", {"account": icp_demo.disqualified_account()[0]}),
    ]
    seen = 0
    async with Client(server) as client:
        for name, args in calls:
            result = await client.call_tool(name, args)
            assert not result.is_error, (name, result.content[0].text)
            for text in texts(result.structured_content):
                seen += 1
                assert not RAW_NUMBER.search(text), f"{name}: {text!r}"
        markdown = (await client.read_resource("icp://current")).contents[0].text
    assert seen > 20
    assert not RAW_NUMBER.search(markdown), RAW_NUMBER.findall(markdown)[:5]


async def test_money_attribute_shown_with_currency_and_magnitude(server) -> None:
    async with Client(server) as client:
        result = await client.call_tool(
            "score_account", {"attributes": {"industry": "Software", "annual_revenue": 3.65779e8}, "detail": True})
    score = result.structured_content["score"]
    shown = [h["account_value"] for h in score["met"] + score["missed"] + score["penalties"]
             if h["attribute"] == "annual_revenue"]
    assert score["attributes"]["annual_revenue"] == 3.65779e8  # structured fields stay numeric
    assert all(v == "$366M" for v in shown)


async def test_missed_adds_points_and_penalties_are_apart(server, icp_demo) -> None:
    async with Client(server) as client:
        results = [(await client.call_tool("score_account", {"account": a})).structured_content["score"]
                   for a in icp_demo.best_customer_ids[:15]]
    assert all(h["points"] > 0 for s in results for h in s["missed"])
    assert all(h["points"] < 0 for s in results for h in s["penalties"])
    assert all(h["points"] >= 0 for s in results for h in s["met"])
    for s in results:  # the points add up from what is listed: nothing met is hidden
        assert sum(h["points"] for h in s["met"] + s["penalties"]) == pytest.approx(s["points"])


async def test_similar_customers_share_icp_facts_once(server, icp_demo) -> None:
    from icp_mcp.archive.db import open_archive
    from icp_mcp.engine.sql import versions

    engine = open_archive(icp_demo.path, read_only=True)
    try:
        definition = versions.active_icp(engine)
    finally:
        engine.dispose()
    own = {c.attribute for c in definition.criteria} | {c.attribute for s in definition.segments for c in s.conditions}
    async with Client(server) as client:
        scores = [(await client.call_tool("score_account", {"account": a, "detail": True})).structured_content["score"]
                  for a in icp_demo.best_customer_ids[:5]]
    similar = [s for score in scores for s in score["similar_best_customers"]]
    assert similar
    for s in similar:
        attrs = [v.split("=", 1)[0] for v in s["shared_values"]]
        assert set(attrs) <= own, attrs
        assert sum(a in ("country", "region", "territory") for a in attrs) <= 1
        assert s["shared"] == len(s["shared_values"])


async def test_best_customers_say_what_ranks_them(server) -> None:
    async with Client(server) as client:
        data = (await client.call_tool("best_customers", {"limit": 10})).structured_content
    assert data["value_formula"].startswith("value score = ") and "current ARR" in data["value_formula"]
    assert all(item["ranked_by"] and " in the top " in item["ranked_by"] for item in data["items"])

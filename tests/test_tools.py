"""Every tool, resource and prompt through the SDK's in-memory client against the demo archive (size S)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import ElicitResult

from icp_mcp.surface.text_render import result_text
from icp_mcp.server.app import archive_of, build_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(icp_demo):
    """One read-only server over the shared demo archive (queries only)."""
    srv = build_server(str(icp_demo.path), read_only=True)
    yield srv
    archive_of(srv).close()


def text_of(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def call(server, name, args):
    async with Client(server) as client:
        return await client.call_tool(name, args)


# --- score_account ----------------------------------------------------------------------------------


async def test_score_account_by_id_has_fit_tier_probability_and_evidence(server, icp_demo):
    account = icp_demo.best_customer_ids[0]
    result = await call(server, "score_account", {"account": account})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data["status"] == "scored"
    score = data["score"]
    assert score["account_id"] == account
    assert 0 <= score["fit_score"] <= 100
    assert score["tier"] in {"A", "B", "C", "D"}
    assert score["win_probability"] is None or 0 <= score["win_probability"] <= 1
    assert score["met"], "a best customer meets some criteria"
    assert all(hit["evidence"] is None or hit["evidence"]["n"] >= 0 for hit in score["met"] + score["missed"])
    assert text_of(result) == result_text(data), "text content renders the structured content"
    assert f"score.fit_score: {score['fit_score']:g}" in text_of(result) and score["met"][0]["id"] in text_of(result)


async def test_planted_disqualifier_forces_tier_d_with_rule_id_and_evidence(server, icp_demo):
    account, planted = icp_demo.disqualified_account()
    result = await call(server, "score_account", {"account": account})
    score = result.structured_content["score"]
    assert score["tier"] == "D"
    hits = score["disqualifiers"]
    assert hits, f"{account} hits the planted disqualifier {planted.id}"
    hit = next(h for h in hits if planted.attribute in h["condition"])
    assert hit["id"] and hit["evidence"]["n"] > 0 and hit["sentence"]


async def test_unknown_account_gives_candidates_or_clear_not_found(server):
    result = await call(server, "score_account", {"account": "Zzyzx Nonexistent Holdings"})
    if result.is_error:
        assert "account" in text_of(result) and "Traceback" not in text_of(result)
    else:
        assert result.structured_content["status"] == "candidates"


async def test_fuzzy_name_returns_candidates(server, icp_demo):
    name = icp_demo.account_name(icp_demo.best_customer_ids[0])
    result = await call(server, "score_account", {"account": name[: max(4, len(name) // 2)]})
    assert "Traceback" not in text_of(result)
    if not result.is_error and result.structured_content["status"] == "candidates":
        assert result.structured_content["candidates"]["candidates"]


async def test_prospect_attributes_are_scored(server):
    result = await call(server, "score_account", {"attributes": {"industry": "Healthcare", "employees": 800}})
    assert not result.is_error, text_of(result)
    assert result.structured_content["score"]["account_id"] is None


@pytest.mark.parametrize(
    ("args", "field"),
    [({}, "account"), ({"account": "x", "attributes": {"industry": "Retail"}}, "account"), ({"account": "  "}, "account")],
)
async def test_bad_score_arguments_name_the_field(server, args, field):
    result = await call(server, "score_account", args)
    assert result.is_error
    assert text_of(result).startswith(field)


async def test_unknown_prospect_attribute_names_allowed_values(server):
    result = await call(server, "score_account", {"attributes": {"shoe_size": 42}})
    assert result.is_error
    message = text_of(result)
    assert "shoe_size" in message and "industry" in message, message


async def test_score_result_is_compact(server, icp_demo):
    result = await call(server, "score_account", {"account": icp_demo.best_customer_ids[0]})
    assert len(text_of(result)) < 8000, "about 2k tokens"


# --- best_customers ---------------------------------------------------------------------------------


async def test_best_customers_pages_with_an_opaque_cursor(server):
    first = await call(server, "best_customers", {"limit": 5})
    assert not first.is_error, text_of(first)
    page1 = first.structured_content
    assert len(page1["items"]) == 5 and page1["next_cursor"]
    second = await call(server, "best_customers", {"limit": 5, "cursor": page1["next_cursor"]})
    page2 = second.structured_content
    ids1 = {i["account_id"] for i in page1["items"]}
    ids2 = {i["account_id"] for i in page2["items"]}
    assert ids2 and not ids1 & ids2
    assert [i["rank"] for i in page2["items"]][0] == page1["items"][-1]["rank"] + 1


async def test_best_customers_defaults_to_twenty(server):
    result = await call(server, "best_customers", {})
    assert len(result.structured_content["items"]) <= 20


async def test_cursor_from_another_query_is_refused(server):
    first = await call(server, "best_customers", {"limit": 5})
    other = await call(server, "best_customers", {"limit": 6, "cursor": first.structured_content["next_cursor"]})
    assert other.is_error and text_of(other).startswith("cursor")
    garbage = await call(server, "best_customers", {"cursor": "not-a-cursor"})
    assert garbage.is_error and text_of(garbage).startswith("cursor")


async def test_limit_over_the_cap_names_field_and_bound(server):
    result = await call(server, "best_customers", {"limit": 500})
    assert result.is_error
    assert text_of(result) == "limit: Input should be less than or equal to 200 (got 500)"


async def test_missing_and_mistyped_arguments_name_the_field(server):
    missing = await call(server, "activate_icp", {})
    assert missing.is_error and text_of(missing) == "version: Field required"
    mistyped = await call(server, "best_customers", {"closed_before": "yesterday-ish"})
    assert mistyped.is_error and text_of(mistyped).startswith("closed_before: ")


async def test_unknown_segment_names_allowed_values(server):
    result = await call(server, "best_customers", {"segment": "no-such-segment"})
    assert result.is_error
    assert "segment" in text_of(result)


# --- explain_disqualifier ---------------------------------------------------------------------------


async def test_explain_disqualifier_by_rule_and_by_account(server, icp_demo):
    account, _ = icp_demo.disqualified_account()
    scored = await call(server, "score_account", {"account": account})
    rule_id = scored.structured_content["score"]["disqualifiers"][0]["id"]
    by_rule = await call(server, "explain_disqualifier", {"rule_id": rule_id})
    assert not by_rule.is_error, text_of(by_rule)
    explanation = by_rule.structured_content["explanation"]
    assert explanation["rule"]["id"] == rule_id and explanation["sentence"]
    assert "recent" in explanation
    by_account = await call(server, "explain_disqualifier", {"account": account})
    assert not by_account.is_error, text_of(by_account)
    assert rule_id in by_account.structured_content["explanation"]["account_hits"]


async def test_unknown_rule_names_the_allowed_rules(server):
    result = await call(server, "explain_disqualifier", {"rule_id": "no_such_rule"})
    assert result.is_error
    assert text_of(result).startswith("rule_id")


async def test_explain_needs_rule_or_account(server):
    result = await call(server, "explain_disqualifier", {})
    assert result.is_error and text_of(result).startswith("rule_id")


# --- resources and prompts --------------------------------------------------------------------------


async def test_resources(server):
    async with Client(server) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"icp://current", "icp://current.json", "icp://personas", "icp://versions", "archive://schema"} <= listed
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        assert "icp://versions/{version}" in templates
        current = (await client.read_resource("icp://current")).contents[0]
        assert current.mime_type == "text/markdown" and current.text.startswith("#")
        as_json = json.loads((await client.read_resource("icp://current.json")).contents[0].text)
        assert as_json["status"] == "active" and as_json["definition"]["criteria"]
        personas = json.loads((await client.read_resource("icp://personas")).contents[0].text)
        assert personas and all("evidence" in p for p in personas)
        versions = json.loads((await client.read_resource("icp://versions")).contents[0].text)
        assert any(v["status"] == "active" for v in versions)
        one = json.loads((await client.read_resource(f"icp://versions/{as_json['version']}")).contents[0].text)
        assert one["version"] == as_json["version"]
        schema = (await client.read_resource("archive://schema")).contents[0].text
        assert "## accounts" in schema and "| account_id |" in schema and "rows)" in schema


async def test_missing_version_is_a_clear_resource_error(server):
    from mcp import MCPError

    async with Client(server) as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("icp://versions/9999")
        assert "9999" in str(info.value) or "version" in str(info.value)


async def test_prompts(server):
    async with Client(server) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        assert names >= {"qualify_account", "quarterly_icp_review", "voice_of_customer"}
        qualify = await client.get_prompt("qualify_account", {"account": "Northwind Health"})
        assert "score_account" in qualify.messages[0].content.text
        review = await client.get_prompt("quarterly_icp_review", {})
        assert "check_drift" in review.messages[0].content.text
        voice = await client.get_prompt("voice_of_customer", {"topic": "pricing", "cohort": "best"})
        assert "pricing" in voice.messages[0].content.text


async def test_instructions_map_questions_to_tools(server):
    async with Client(server) as client:
        assert "score_account" in client.instructions and "icp://personas" in client.instructions


# --- the sales journey ------------------------------------------------------------------------------


async def test_sales_journey_score_explain_personas(server, icp_demo):
    account, _ = icp_demo.disqualified_account()
    async with Client(server) as client:
        scored = await client.call_tool("score_account", {"account": account})
        rule_id = scored.structured_content["score"]["disqualifiers"][0]["id"]
        explained = await client.call_tool("explain_disqualifier", {"rule_id": rule_id})
        assert explained.structured_content["explanation"]["evidence"]["n"] > 0
        personas = json.loads((await client.read_resource("icp://personas")).contents[0].text)
        assert any(p.get("role") == "champion" or p.get("kind") == "role" for p in personas)


# --- writes: derive (progress) and activate (elicitation) on a copy ---------------------------------


async def test_derive_reports_progress_and_stores_a_draft(icp_demo_copy: Path):
    srv = build_server(str(icp_demo_copy))
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress, total, message):
        updates.append((progress, total, message))

    try:
        async with Client(srv) as client:
            result = await client.call_tool("derive_icp", {"note": "test"}, progress_callback=on_progress)
            assert not result.is_error, text_of(result)
            draft = result.structured_content
            assert draft["status"] == "draft" and draft["version"] >= 2 and draft["criteria"]
            assert len(updates) >= 2, "progress notifications during derivation"
            versions = json.loads((await client.read_resource("icp://versions")).contents[0].text)
            assert {v["version"]: v["status"] for v in versions}[draft["version"]] == "draft"
    finally:
        archive_of(srv).close()


async def test_activate_asks_through_elicitation(icp_demo_copy: Path):
    srv = build_server(str(icp_demo_copy))
    asked: list[str] = []

    async def decline(context, params):
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": False})

    async def accept(context, params):
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    try:
        async with Client(srv) as client:
            draft = (await client.call_tool("derive_icp", {})).structured_content["version"]
        async with Client(srv, elicitation_callback=decline) as client:
            refused = await client.call_tool("activate_icp", {"version": draft})
            assert refused.is_error and "not activated" in text_of(refused)
        async with Client(srv, elicitation_callback=accept) as client:
            done = await client.call_tool("activate_icp", {"version": draft})
            assert not done.is_error, text_of(done)
            assert done.structured_content["active"]["version"] == draft
            assert done.structured_content["confirmed_by"] == "elicitation"
        assert len(asked) == 2 and str(draft) in asked[0]
    finally:
        archive_of(srv).close()


async def test_activate_elicitation_round_passes_redaction_for_a_caller_without_pii(icp_demo_copy: Path):
    """revops (no pii:read) makes the redaction middleware look at results: the input_required round must
    reach the client untouched (it is no CallToolResult), and the confirmed call then completes."""
    from icp_mcp.surface.access import ROLE_SCOPES, Principal, acting_as

    srv = build_server(str(icp_demo_copy))
    revops = Principal(subject="ops", roles=["revops"], scopes=ROLE_SCOPES["revops"])
    asked: list[str] = []

    async def accept(context, params):
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    try:
        with acting_as(revops):
            async with Client(srv, elicitation_callback=accept) as client:
                versions = json.loads((await client.read_resource("icp://versions")).contents[0].text)
                version = versions[0]["version"]
                done = await client.call_tool("activate_icp", {"version": version})
        assert not done.is_error, text_of(done)
        assert done.structured_content["confirmed_by"] == "elicitation"
        assert done.structured_content["active"]["version"] == version
        assert len(asked) == 1 and str(version) in asked[0]
    finally:
        archive_of(srv).close()


async def test_activate_without_elicitation_refuses_then_accepts_confirm_argument(icp_demo_copy: Path):
    srv = build_server(str(icp_demo_copy))
    try:
        async with Client(srv) as client:
            versions = json.loads((await client.read_resource("icp://versions")).contents[0].text)
            version = versions[0]["version"]
            refused = await client.call_tool("activate_icp", {"version": version})
            assert refused.is_error and "confirm=true" in text_of(refused)
            done = await client.call_tool("activate_icp", {"version": version, "confirm": True})
            assert not done.is_error, text_of(done)
            missing = await client.call_tool("activate_icp", {"version": 999, "confirm": True})
            assert missing.is_error and "version" in text_of(missing)
    finally:
        archive_of(srv).close()


async def test_write_tools_refused_on_a_read_only_server(server):
    result = await call(server, "derive_icp", {})
    assert result.is_error and "read-only" in text_of(result)

"""`explain_disqualifier` reads a rule id, its attribute value or a close phrase (issue 15): "pre-seed" and
"Pre-Seed funding" answer the funding-stage rule; an unclear phrase lists the candidate rules."""

from __future__ import annotations

from mcp import Client

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.server.app import archive_of, build_server


async def test_value_or_phrase_answers_the_closest_rule(icp_demo):
    engine = open_archive(icp_demo.path, read_only=True)
    try:
        definition = active_icp(engine, required=False)
    finally:
        engine.dispose()
    single = [d for d in definition.disqualifiers if d.value]
    assert single, "the demo ICP has single-valued disqualifiers"
    server = build_server(str(icp_demo.path), read_only=True)
    try:
        async with Client(server) as client:
            for rule in single:
                value = rule.value.lower().replace("-", " ")
                for phrase in (value, f"{rule.value.title()} {rule.attribute.split('_')[0]}", rule.id):
                    res = await client.call_tool("explain_disqualifier", {"rule_id": phrase})
                    assert not res.is_error, (phrase, res.content[0].text)
                    assert res.structured_content["explanation"]["rule"]["id"] == rule.id, phrase
                    assert (res.structured_content["matched"] is None) == (phrase == rule.id)
            unclear = await client.call_tool("explain_disqualifier", {"rule_id": "quantum widgets"})
    finally:
        archive_of(server).close()
    assert unclear.is_error
    text = unclear.content[0].text
    assert text.startswith("rule_id:") and all(d.id in text for d in definition.disqualifiers), text

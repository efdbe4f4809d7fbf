"""MCP completions (issue 15) through the SDK client: declared in the capabilities; every prompt argument and
the resource-template variable complete from the archive and the active ICP; accounts only within the
caller's territories."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.types import PromptReference, ResourceTemplateReference
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.server.app import archive_of, build_server
from icp_mcp.surface.access import Principal, acting_as


def prompt(name: str) -> PromptReference:
    return PromptReference(type="ref/prompt", name=name)


@pytest.fixture
def server(icp_demo):
    server = build_server(str(icp_demo.path), read_only=True)
    yield server
    archive_of(server).close()


@pytest.fixture
def truth(icp_demo):
    engine = open_archive(icp_demo.path, read_only=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(accounts.c.account_id, accounts.c.name, accounts.c.domain,
                                       accounts.c.territory)).all()
        return rows, active_icp(engine, required=False)
    finally:
        engine.dispose()


async def values(client: Client, ref, argument: str, typed: str) -> list[str]:
    return (await client.complete(ref, {"name": argument, "value": typed})).completion.values


async def test_every_argument_kind_completes(server, truth, icp_demo):
    rows, definition = truth
    some = rows[42]
    async with Client(server) as client:
        assert client.server_capabilities.completions is not None
        prompts = {p.name: {a.name for a in p.arguments or []} for p in (await client.list_prompts()).prompts}
        kinds = set().union(*prompts.values())
        assert {"account", "topic", "cohort", "feature", "rule_id", "segment"} <= kinds, prompts
        by_id = await values(client, prompt("qualify_account"), "account", some.account_id[:-1])
        assert some.account_id in by_id
        by_name = await values(client, prompt("qualify_account"), "account", some.name[:5].lower())
        assert some.name in by_name and all(v.lower().startswith(some.name[:5].lower()) for v in by_name)
        assert some.domain in await values(client, prompt("qualify_account"), "account", some.domain[:6])
        assert await values(client, prompt("voice_of_customer"), "topic", "pri") == ["pricing"]
        cohorts = await values(client, prompt("voice_of_customer"), "cohort", "segment:")
        assert cohorts == [f"segment:{s.id}" for s in definition.segments]
        feature = icp_demo.manifest.feature_adoption["feature"]
        assert feature in await values(client, prompt("feature_adoption_review"), "feature", feature[:2])
        rules = await values(client, prompt("disqualifier_review"), "rule_id", "")
        assert rules == [d.id for d in definition.disqualifiers]
        assert await values(client, prompt("segment_review"), "segment", "") == [s.id for s in definition.segments]
        template = ResourceTemplateReference(type="ref/resource", uri="icp://versions/{version}")
        assert await values(client, template, "version", "") == ["1"]


async def test_account_completions_respect_territories(server, truth):
    rows, _ = truth
    territory = rows[0].territory
    outside = next(r for r in rows if r.territory != territory)
    rep = Principal(subject="r", roles=["sales"], scopes=frozenset({"accounts:read", "icp:read"}),
                    territories=frozenset({territory}))
    with acting_as(rep):
        async with Client(server) as client:
            mine = await values(client, prompt("qualify_account"), "account", rows[0].account_id)
            theirs = await values(client, prompt("qualify_account"), "account", outside.account_id)
    assert mine == [rows[0].account_id] and theirs == []
    marketer = Principal(subject="m", roles=["marketing"], scopes=frozenset({"icp:read", "voice:read"}))
    with acting_as(marketer):
        async with Client(server) as client:
            assert await values(client, prompt("qualify_account"), "account", "A") == []

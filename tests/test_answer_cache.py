"""Answers of pure read tools kept in the one cache (surface/runner.py `ToolSpec.pure`, engine/sql/cache.py
`answer`): computed once per (generation, day, tool, arguments, caller's view), every call still audited,
another caller's view never served, a new generation seen at once. Asserted through the cache's counters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from sqlalchemy import func, select

from icp_mcp.archive.schema import audit_log
from icp_mcp.engine.sql import cache, versions
from icp_mcp.server.app import archive_of, build_server
from icp_mcp.surface.access import Principal, acting_as, scopes_for_roles

pytestmark = pytest.mark.slow


def _who(role: str, territories: frozenset[str] | None = None) -> Principal:
    return Principal(subject=f"t-{role}", roles=[role], scopes=scopes_for_roles([role]), territories=territories)


def _audited(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


@pytest.fixture
def served(icp_demo_copy: Path):
    """A server over a private copy of the demo archive, with an empty cache."""
    cache.clear()
    server = build_server(str(icp_demo_copy))
    yield server, archive_of(server)
    archive_of(server).close()
    cache.clear()


async def _call(server, principal: Principal, tool: str, args: dict) -> dict:
    with acting_as(principal):
        async with Client(server) as client:
            result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_a_repeated_question_is_answered_once_and_audited_every_time(served) -> None:
    server, handle = served
    owner = _who("admin")
    before = _audited(handle.engine)
    first = await _call(server, owner, "best_customers", {"limit": 5})
    computed = cache.computations().get("answer", 0)
    again = await _call(server, owner, "best_customers", {"limit": 5})
    assert again == first
    assert cache.computations().get("answer", 0) == computed, "the kept answer was served"
    assert _audited(handle.engine) == before + 2, "every call has its audit row"
    await _call(server, owner, "best_customers", {"limit": 6})
    assert cache.computations().get("answer", 0) == computed + 1, "other arguments: another answer"


async def test_the_callers_view_is_part_of_the_key(served) -> None:
    server, handle = served
    owner = await _call(server, _who("admin"), "best_customers", {"limit": 20})
    territory = owner["items"][0]["territory"]
    sales = _who("sales", frozenset({territory}))
    seen = await _call(server, sales, "best_customers", {"limit": 20})
    assert seen != owner and seen["n_in_view"] < owner["n_in_view"]
    assert {item["territory"] for item in seen["items"]} == {territory}
    assert seen == await _call(server, sales, "best_customers", {"limit": 20})
    revops = _who("revops")  # no pii:read: quotes masked, once per kept answer and view
    voice = {"topic": "pricing", "cohort": "best:50", "limit": 10}
    masked = await _call(server, revops, "customer_voice", voice)
    redactions = cache.computations().get("answer", 0)
    assert await _call(server, revops, "customer_voice", voice) == masked
    assert cache.computations().get("answer", 0) == redactions, "answer and its redaction were kept"
    plain = await _call(server, _who("admin"), "customer_voice", voice)
    assert [q.get("snippet_id") for q in plain["quotes"]] == [q.get("snippet_id") for q in masked["quotes"]]


async def test_a_new_generation_is_seen_by_the_next_call(served) -> None:
    server, handle = served
    owner = _who("admin")
    await _call(server, owner, "check_drift", {})
    computed = cache.computations().get("answer", 0)
    active = versions.active_icp(handle.engine)
    version = handle.write(versions.save_version, active.model_copy(), "tests")
    handle.write(versions.activate, version, "tests")  # bumps the archive generation
    await _call(server, owner, "check_drift", {})
    assert cache.computations().get("answer", 0) == computed + 1, "recomputed for the new generation"

"""feature_adoption from the stored ICP state (`icp_adoption_facts`, engine/sql/adoption_sql.py).

The stored sums must give the same answer as the computation for every feature and ICP grouping; any other
window (mid-month edges, another `as_of`, named periods) is computed, as before; and usage rows ingested after
the state was built are in the next call's answer (asserted through the cache's counters, never a timer).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

from icp_mcp.archive.clock import today
from icp_mcp.archive.db import open_archive
from icp_mcp.archive.ingest import ingest_file
from icp_mcp.archive.schema import icp_adoption_facts, icp_state
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions import adoption
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import adoption_sql, cache, versions

pytestmark = pytest.mark.slow


@pytest.fixture
def engine(icp_demo_copy: Path):
    eng = open_archive(icp_demo_copy)
    cache.clear()
    yield eng
    eng.dispose()
    cache.clear()


def _stored_reads() -> int:
    return cache.computations().get("adoption_stored", 0)


def _ask(engine: Engine, feature: str, by: str, since: str = "365d", as_of=None) -> dict:
    definition = versions.active_icp(engine)
    window = resolve_window(since, None, as_of or today())
    return adoption.feature_adoption(engine, feature=feature, by=by, window=window, definition=definition).model_dump()


def _forget_state(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(icp_state))
    cache.clear()


def _features(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return adoption.known_features(conn)


def test_stored_sums_give_the_computed_answer_for_every_feature_and_icp_grouping(engine: Engine) -> None:
    definition = versions.active_icp(engine)
    assert state.account_version(engine, definition) is not None, "the fixture stores the state at activation"
    features = _features(engine)
    assert len(features) > 2
    stored = {}
    for feature in features:
        for by in adoption_sql.STORED_BY:
            before = _stored_reads()
            stored[feature, by] = _ask(engine, feature, by)
            assert _stored_reads() == before + 1, (feature, by)
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(icp_adoption_facts)).scalar_one()
    assert kept >= len(features) * 3 * 2
    _forget_state(engine)
    for key, answer in stored.items():
        computed = _ask(engine, *key)
        assert answer == computed, key
        assert answer["overall"]["n"] > 0
    assert _stored_reads() == 0, "without a current state nothing is read from it"


@pytest.mark.parametrize("since, as_of", [
    ("90d", None), ("2026-03-15", None), ("last_quarter", None), ("365d", "2026-10-17"), ("45d", "2026-09-14"),
    ("2025-12-09", None),  # a day after the stored window's start: computed, not read
])
def test_other_windows_are_computed_and_agree_with_or_without_the_state(engine: Engine, since: str, as_of) -> None:
    with_state = {by: _ask(engine, "sso", by, since, as_of) for by in adoption_sql.STORED_BY}
    assert _stored_reads() == 0, "only the default window ending today is stored"
    _forget_state(engine)
    for by, answer in with_state.items():
        assert answer == _ask(engine, "sso", by, since, as_of), by


def test_usage_ingested_after_the_build_is_in_the_next_answer(engine: Engine, tmp_path: Path) -> None:
    definition = versions.active_icp(engine)
    first = _ask(engine, "sso", "segment")
    assert _stored_reads() == 1
    window = resolve_window("365d", None, today())
    with engine.connect() as conn:  # an eligible customer without sso usage in the window becomes an adopter
        months = adoption_sql.retention_months(conn, window.last_day)
        per = adoption_sql.per_account("sso", window, months).subquery("per")
        customer = conn.execute(select(per.c.account_id).where(per.c.adopter == 0)
                                .order_by(per.c.account_id).limit(1)).scalar_one()
    day = today().isoformat()
    path = tmp_path / "usage.jsonl"
    path.write_text(json.dumps({"account_id": customer, "feature": "sso", "day": day, "events": 5,
                                "active_users": 2}) + "\n")
    report = ingest_file(engine, "feature_usage", str(path))
    assert report.loaded == 1, report
    cache.forget_generation(engine)
    assert state.account_version(engine, definition) is None, "the ingest made the stored state stale"
    second = _ask(engine, "sso", "segment")
    assert _stored_reads() == 1, "a stale state is not read"
    assert second["overall"]["adopters"] == first["overall"]["adopters"] + 1
    assert second["overall"]["n"] == first["overall"]["n"]
    assert state.build(engine) is not None
    cache.clear()  # a fresh process: the rebuilt state is read
    third = _ask(engine, "sso", "segment")
    assert _stored_reads() == 1, "the rebuilt state is read"
    assert third == second


async def test_the_small_group_rule_applies_to_stored_answers(icp_demo_copy: Path) -> None:
    from mcp import Client

    from icp_mcp.server.app import archive_of, build_server
    from icp_mcp.surface.access import Principal, acting_as

    cache.clear()
    server = build_server(str(icp_demo_copy), read_only=True)
    try:
        sizes = sorted(g["n"] for g in _ask(archive_of(server).engine, "sso", "segment")["groups"])
        assert _stored_reads() == 1 and len(sizes) >= 2
        k = sizes[0] + 1  # the smallest group falls under the caller's k
        pm = Principal(subject="p", roles=["product"], scopes=frozenset({"icp:read", "usage:read"}),
                       territories=frozenset(), min_group=k)
        cache.clear()  # the tool's call reads the stored sums itself
        with acting_as(pm):
            async with Client(server) as client:
                res = await client.call_tool("feature_adoption", {"feature": "sso", "by": "segment"})
        assert not res.is_error
        data = res.structured_content
        assert _stored_reads() == 1, "answered from the stored state"
        hidden = [g for g in data["groups"] if g["suppressed"]]
        assert data["suppressed_groups"] == len(hidden) == sum(n < k for n in sizes) >= 1
        assert all(g["rate"] is None and g["adopters"] is None for g in hidden)
    finally:
        archive_of(server).close()
        cache.clear()

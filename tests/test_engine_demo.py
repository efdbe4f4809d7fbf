"""Acceptance on demo archives (size S, three seeds): the derived ICP recovers what the generator planted.

Reads each archive's truth manifest: planted segments' attributes and planted disqualifiers must appear, no
criterion may use a planted noise attribute, tiers must be monotone in win rate, and the time-split
backtest must reach AUC >= 0.75 and stay within 0.01 of its value before issue 14. The card is sharp: at
most 12 criteria shown, each worth |points| >= 5, at most 3 segments worth points and overlapping at most
half, and a disqualifier casts no shadow on the other values of its attribute.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.derivation.backtest import backtest, tier_table
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.sql.labels import labels_query
from icp_mcp.engine.sql.matching import members_query
from icp_mcp.engine.sql.versions import export_definition

demo = pytest.importorskip("icp_mcp.archive.demo")

SEEDS = (7, 11, 23)
AS_OF = date(2026, 11, 1)
#: Backtest AUC per seed before issue 14 (commit 8f64c27, benchmarks/bench_derive.py); a sharper card may
#: cost at most 0.01 of it.
AUC_BEFORE = {7: 0.8119, 11: 0.8397, 23: 0.8093}


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def built(request, tmp_path_factory):
    path = tmp_path_factory.mktemp(f"demo{request.param}") / "demo.duckdb"
    manifest = demo.build_demo(path, size="S", seed=request.param, as_of=AS_OF)
    engine = open_archive(path, read_only=True)
    yield engine, manifest, derive_icp(engine)
    engine.dispose()


def _attributes(definition) -> set[str]:
    used = {c.attribute for c in definition.criteria} | {d.attribute for d in definition.disqualifiers}
    return used | {c.attribute for s in definition.segments for c in s.conditions}


def _covers(definition, planted) -> bool:
    """Some positive criterion or segment condition uses the attribute, with an overlapping value or range."""
    conds = [c for c in definition.criteria if c.points > 0]
    conds += [c for s in definition.segments for c in s.conditions]
    for c in conds:
        if c.attribute != planted.attribute:
            continue
        if planted.values is not None and set(c.accepted()) & set(planted.values):
            return True
        if planted.values is None and c.range is not None:
            lo, hi = c.range.min or 0, c.range.max or float("inf")
            if lo < (planted.max or float("inf")) and (planted.min or 0) < hi:
                return True
    return False


def test_planted_segments_are_recovered(built):
    _, manifest, d = built
    for segment in manifest.segments:
        for planted in segment.conditions:
            assert _covers(d, planted), f"{segment.id}: {planted.attribute} {planted.values or (planted.min, planted.max)}"


def test_planted_disqualifiers_are_recovered(built):
    _, manifest, d = built
    for planted in manifest.disqualifiers:
        assert any(r.attribute == planted.attribute and set(r.accepted()) & set(planted.values)
                   for r in d.disqualifiers), planted.id


def test_no_criterion_on_a_noise_attribute(built):
    _, manifest, d = built
    assert not _attributes(d) & set(manifest.noise_attributes)


def test_tiers_are_monotone_in_win_rate(built):
    engine, _, d = built
    rates = [row.win_rate for row in tier_table(engine, d)]
    assert all(r is not None for r in rates)
    assert rates == sorted(rates, reverse=True), rates


def test_backtest_auc(built):
    engine, manifest, _ = built
    report = backtest(engine, AS_OF - timedelta(days=300))
    assert report.n > 500 and report.auc >= 0.75, report
    assert report.auc >= AUC_BEFORE[manifest.seed] - 0.01, (report.auc, AUC_BEFORE[manifest.seed])
    assert report.top_tier_lift > 1.5


def _members(engine, segment) -> set[str]:
    labels = labels_query().subquery("labels")
    m = members_query(segment.conditions).subquery("m")
    with engine.connect() as conn:
        return set(conn.execute(select(m.c.account_id).join(labels, labels.c.account_id == m.c.account_id))
                   .scalars())


def test_the_card_is_sharp(built):
    engine, _, d = built
    shown = [c for c in d.criteria if not c.minor]
    assert 0 < len(shown) <= 12
    assert all(abs(c.points) >= 5 for c in shown), [(c.describe(), c.points) for c in shown]
    assert 0 < len(d.segments) <= 3 and all(s.points > 0 for s in d.segments)
    members = [_members(engine, s) for s in d.segments]
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            assert len(a & b) <= 0.5 * min(len(a), len(b)), [s.name for s in d.segments]
    for s in d.segments:
        assert " · " not in s.name and " or " not in s.name, s.name
        assert 0 < s.share_accounts < s.share_wins <= 1 and 0 < s.share_revenue <= 1, s


def test_a_disqualifier_casts_no_shadow(built):
    _, manifest, d = built
    planted_segment_attributes = {c.attribute for s in manifest.segments for c in s.conditions}
    for planted in manifest.disqualifiers:
        if planted.attribute in planted_segment_attributes:
            continue
        shadows = [c for c in d.criteria if c.attribute == planted.attribute]
        assert not shadows, [(c.describe(), c.points) for c in shadows]


def test_json_export_shape(built):
    _, _, d = built
    data = json.loads(export_definition(d, "json"))
    assert data["criteria"] and data["disqualifiers"]
    for c in data["criteria"]:
        assert {"attribute", "points", "evidence"} <= set(c) and ({"value", "values", "range"} & set(c))
        assert {"n", "positives", "rate", "interval", "lift", "woe"} <= set(c["evidence"])
    for r in data["disqualifiers"]:
        assert {"id", "attribute", "evidence", "sentence"} <= set(r) and ({"value", "values", "range"} & set(r))


def test_planted_personas_and_trigger(built):
    _, manifest, d = built
    by_role = {p.role: p for p in d.personas if p.kind == "role"}
    for planted in manifest.personas:
        found = by_role[planted.role]
        assert found.supported and (found.evidence.lift > 1) == (planted.lift > 1), planted.role
    titles = {p.title: p for p in d.personas if p.kind == "title"}
    assert "CFO" in titles and titles["CFO"].evidence.lift > 1
    for trigger in manifest.triggers:
        assert any(c.attribute == "trigger" and c.value == trigger.kind and c.points > 0 for c in d.criteria)

"""Derivation on small synthetic archives: planted truths found, noise left out, small data handled honestly."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert
from test_engine_synth import synthetic_archive

from icp_mcp.archive.schema import icp_versions
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.model.errors import EngineError, InsufficientData, NoActiveICP
from icp_mcp.engine.model.profile import Criterion, ICPDefinition
from icp_mcp.engine.sql.labels import MIN_LOST_DEALS, MIN_WON_DEALS
from icp_mcp.engine.sql.versions import activate, get_version, save_version


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    engine, manifest = synthetic_archive(tmp_path_factory.mktemp("synth") / "s.duckdb", n_accounts=1500, seed=1)
    return engine, manifest


@pytest.fixture(scope="module")
def derived(synth):
    return derive_icp(synth[0])


def test_planted_segment_and_disqualifier_are_found(derived):
    healthcare = [c for c in derived.criteria if c.attribute == "industry" and c.value == "Healthcare"]
    assert healthcare and healthcare[0].points > 0
    e = healthcare[0].evidence
    assert e.n > 0 and e.interval[0] > derived.base_rate and e.lift > 1
    assert any(r.attribute == "industry" and r.value == "Government" for r in derived.disqualifiers)
    seg = next(s for s in derived.segments if {c.attribute for c in s.conditions} == {"industry", "employees"})
    size = next(c for c in seg.conditions if c.attribute == "employees")
    assert size.range.min <= 300 < size.range.max and size.range.max <= 1000
    assert seg.evidence.interval[0] > derived.base_rate and seg.points > 0
    gov = next(r for r in derived.disqualifiers if r.value == "Government")
    assert "Government" in gov.sentence and str(gov.evidence.n) in gov.sentence


def test_noise_attribute_gets_no_criterion(derived):
    assert not [c for c in derived.criteria if c.attribute == "region"]


def test_tiers_calibration_and_evidence_are_filled(derived):
    assert derived.tiers is not None and derived.tiers.a >= derived.tiers.b >= derived.tiers.c
    assert derived.calibration is not None and derived.calibration.a > 0
    assert derived.population and derived.positives and 0 < derived.base_rate < 1
    for c in derived.criteria:
        assert c.source == "derived" and c.evidence is not None and c.evidence.n >= 5


def test_numeric_bands_merge_into_ranges(synth):
    d = derive_icp(synth[0], best_top_n=120)
    ranges = [c for c in d.criteria if c.range is not None]
    assert ranges and all(c.attribute in ("employees", "annual_revenue", "founded_year") for c in ranges)
    assert any(c.range.max - c.range.min > 500 for c in ranges if c.attribute == "employees" and c.range.max)


def test_closed_before_and_progress(synth):
    calls = []
    d = derive_icp(synth[0], closed_before=date(2024, 6, 1), progress=lambda a, b, m: calls.append((a, b, m)))
    assert d.closed_to < date(2024, 6, 1)
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]
    assert all(isinstance(m, str) for _, _, m in calls)


def test_best_cohort_as_positives(synth):
    d = derive_icp(synth[0], best_top_n=50)
    assert d.positives == 50 and "top 50" in d.best_rule


def test_manual_rules_survive_a_new_derivation(synth, derived):
    manual = derived.model_copy(update={"criteria": [
        *derived.criteria, Criterion(attribute="country", value="DE", points=5, source="manual", id="m-de")]})
    again = derive_icp(synth[0], previous=manual)
    assert any(c.source == "manual" and c.value == "DE" for c in again.criteria)


def test_thirty_won_deals_give_honest_wide_intervals(tmp_path):
    engine, manifest = synthetic_archive(tmp_path / "small.duckdb", n_accounts=160, seed=5, won_cap=30)
    assert manifest["won"] == 30
    d = derive_icp(engine)
    assert d.positives <= 30 and d.population > 30
    assert d.unsupported, "small data must say what it cannot support"
    assert any("not supported by the data (n = " in u or "no criterion clears" in u for u in d.unsupported)
    for c in d.criteria:
        lo, hi = c.evidence.interval
        assert hi - lo > 0.1
    save_version(engine, d, "test")


def test_empty_archive_is_refused_with_the_counts(archive_path):
    from icp_mcp.archive.db import open_archive

    with pytest.raises(InsufficientData) as refused:
        derive_icp(open_archive(archive_path))
    assert (refused.value.won, refused.value.lost) == (0, 0)
    assert "found 0 won and 0 lost" in str(refused.value)


def test_ten_won_deals_are_refused_and_nothing_is_stored(tmp_path):
    engine, manifest = synthetic_archive(tmp_path / "ten.duckdb", n_accounts=160, seed=5, won_cap=10)
    assert manifest["won"] == 10
    with pytest.raises(InsufficientData) as refused:
        derive_icp(engine)
    e = refused.value
    assert e.won == 10 and e.lost > MIN_LOST_DEALS and MIN_WON_DEALS == 30
    assert f"found 10 won and {e.lost} lost, need at least 30 won and 30 lost" in e.message
    with pytest.raises(NoActiveICP) as none:  # tools on such an archive say the same in one line
        get_version(engine)
    assert "found 10 won" in none.value.message and "\n" not in none.value.message


def test_an_empty_definition_is_never_activated(synth):
    empty = ICPDefinition(name="empty")
    with pytest.raises(EngineError, match="tier D"):
        save_version(synth[0], empty, "test", status="active")
    version = save_version(synth[0], empty, "test")
    with pytest.raises(EngineError, match="tier D"):
        activate(synth[0], version, "test")


def test_an_empty_active_version_from_before_is_not_usable(tmp_path):
    engine, _ = synthetic_archive(tmp_path / "old.duckdb", n_accounts=160, seed=5, won_cap=10)
    with engine.begin() as conn:  # as an older release stored it: active with 0 criteria
        conn.execute(insert(icp_versions).values(version=1, created_at=datetime(2026, 1, 1), created_by="old",
                                                 status="active", definition={"name": "empty"}))
    with pytest.raises(NoActiveICP) as none:
        get_version(engine)
    assert "active version 1 has no criteria" in none.value.message and "found 10 won" in none.value.message
    assert get_version(engine, 1).definition.criteria == []

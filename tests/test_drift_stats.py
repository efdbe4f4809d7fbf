"""The statistics behind check_drift: two-proportion test, chi-square tail, PSI bins, baseline windows."""

from __future__ import annotations

from datetime import date

import pytest

from icp_mcp.engine.questions.drift import (
    _psi_for,
    baseline_window,
    change,
    chi2_sf,
    homogeneity_p,
    two_proportion_p,
)
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.model.windows import resolve_window


def test_two_proportion_p() -> None:
    assert two_proportion_p(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_p(60, 100, 40, 100, "less") == pytest.approx(0.0023, abs=5e-4)
    assert two_proportion_p(60, 100, 40, 100, "greater") == pytest.approx(0.9977, abs=5e-4)
    assert two_proportion_p(1, 0, 1, 10) is None


def test_chi2_tail_matches_tables() -> None:
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=0.01)
    assert chi2_sf(18.307, 10) == pytest.approx(0.05, abs=0.005)
    assert chi2_sf(0, 3) == 1.0


def test_homogeneity_and_design_effect() -> None:
    same = homogeneity_p([50, 30, 20], [25, 15, 10])
    assert same is not None and same > 0.9
    moved = change((30, 100), (10, 100), 0.01, drop_only=True)
    assert moved.significant and moved.change == pytest.approx(-0.2)
    clustered = change((30, 100), (10, 100), 0.01, drop_only=True, deff=(4.0, 4.0))
    assert not clustered.significant and clustered.p_value > moved.p_value


def test_psi_merges_small_bins_and_counts_missing() -> None:
    base = {"Software": 400, "Retail": 300, "Rare": 2}
    recent = {"Software": 20, "Retail": 60, "Rare": 1}
    res = _psi_for("industry", base, recent, 800, 100, True, 0.001)
    values = {v.value for v in res.top_values}
    assert res.psi > 0.25 and res.level == "shift" and "Software" in values
    assert res.bins == 4  # Software, Retail, (missing), (other) with Rare
    flat = _psi_for("industry", base, {"Software": 50, "Retail": 38}, 800, 100, True, 0.001)
    assert flat.level == "stable"


def test_baseline_is_the_derivation_window_cut_at_the_recent_start() -> None:
    definition = ICPDefinition(name="t", closed_from=date(2024, 1, 1), closed_to=date(2026, 11, 1))
    recent = resolve_window("90d", as_of="2026-11-01")
    base = baseline_window(definition, recent)
    assert base.start == date(2024, 1, 1) and base.end == recent.start
    explicit = baseline_window(definition, recent, "2025-01-01..2025-06-30")
    assert (explicit.start, explicit.end) == (date(2025, 1, 1), date(2025, 7, 1))
    with pytest.raises(EngineError) as info:
        baseline_window(definition, recent, "last year")
    assert info.value.field == "baseline"

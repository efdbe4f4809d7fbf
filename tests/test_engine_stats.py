"""The statistics helpers agree with textbook values (DESIGN section 10)."""

from __future__ import annotations

import math

import pytest

from icp_mcp.engine.model import stats


def test_wilson_interval_matches_the_textbook_and_handles_edges():
    lo, hi = stats.wilson(10, 100)
    assert lo == pytest.approx(0.0552, abs=1e-3) and hi == pytest.approx(0.1744, abs=1e-3)
    assert stats.wilson(0, 0) == (0.0, 1.0)
    assert stats.wilson(0, 10)[0] == 0.0 and stats.wilson(10, 10)[1] == pytest.approx(1.0)


def test_woe_is_shrunk_toward_zero_for_small_n_and_points_double_the_odds():
    big = stats.woe(80, 20, 100, 100, 2)
    small = stats.woe(8, 2, 100, 100, 2)
    assert big > small > 0
    assert stats.points(math.log(2)) == 20
    assert stats.points(-math.log(4)) == -40


def test_psi_is_zero_for_identical_bins_and_grows_with_shift():
    assert stats.psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    assert stats.psi([50, 50], [90, 10]) > 0.25


def test_auc_from_groups_with_ties_and_its_interval():
    assert stats.auc_grouped([(1, 10, 0), (2, 10, 10)]) == 1.0
    assert stats.auc_grouped([(1, 20, 10)]) == 0.5
    assert stats.auc_grouped([(1, 5, 0)]) is None
    lo, hi = stats.auc_interval(0.5, 50, 50)
    assert lo < 0.5 < hi


def test_brier_and_platt_on_grouped_data():
    assert stats.brier_grouped([(1.0, 10, 10), (0.0, 10, 0)]) == 0.0
    groups = [(float(x), 100, int(100 / (1 + math.exp(-(0.1 * x - 1))))) for x in range(-20, 40, 5)]
    a, b = stats.platt_grouped(groups)
    assert a == pytest.approx(0.1, abs=0.02) and b == pytest.approx(-1, abs=0.2)
    a0, _ = stats.platt_grouped([(0.0, 10, 3)])
    assert a0 == pytest.approx(0.0, abs=1e-6)


def test_quantile_cut_keeps_ties_together():
    hist = [(0.0, 50), (10.0, 30), (20.0, 20)]
    assert stats.quantile_cut(hist, 0.15) == 20.0
    assert stats.quantile_cut(hist, 0.35) == 10.0

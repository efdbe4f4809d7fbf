"""Real data from ../shared/datasets: the maven pipeline is a negative control, and the engine must say so."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from icp_mcp.engine.derivation.backtest import backtest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


def _real_data():
    spec = importlib.util.spec_from_file_location("real_data", ROOT / "benchmarks" / "real_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_data"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (DATASETS / "maven_crm_sales_opportunities").exists(), reason="shared datasets absent")
def test_negative_control_gives_no_criterion_and_chance_auc(tmp_path):
    real = _real_data()
    data = real.load_maven()
    engine = real.to_archive(data, tmp_path)
    report = backtest(engine, data.split, positives=data.positives)
    engine.dispose()
    assert report.n > 3000 and report.criteria == 0
    lo, hi = report.auc_interval
    assert lo <= 0.5 <= hi
    assert any("no criterion clears the base rate" in n for n in report.notes)
    assert any("includes 0.5" in n for n in report.notes)

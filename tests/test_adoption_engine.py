"""feature_adoption on a hand-built archive: rates, intervals, depth, retention, small groups, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.schema import accounts, arr_snapshots, feature_usage, opportunities
from icp_mcp.engine.questions.adoption import feature_adoption
from icp_mcp.engine.model.catalogue import band_label
from icp_mcp.engine.model.catalogue import bands as bands_of
from icp_mcp.engine.model.errors import EngineError, NoActiveICP
from icp_mcp.engine.model.profile import Condition, ICPDefinition, Segment
from icp_mcp.engine.model.windows import resolve_window

AS_OF = "2026-11-22"
# 12 customers: 8 Software (6 adopt sso), 4 Retail (1 adopts); 2 non-customers that use sso (ignored).
SOFTWARE = [f"S{i}" for i in range(8)]
RETAIL = [f"R{i}" for i in range(4)]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_archive(tmp_path_factory.mktemp("adopt") / "a.duckdb", create=True)
    create_schema(engine)
    ids = SOFTWARE + RETAIL + ["X1", "X2"]
    with engine.begin() as conn:
        conn.execute(insert(accounts), [
            {"account_id": a, "name": a, "industry": "Software" if a[0] == "S" else "Retail",
             "employees": 300 if a[0] == "S" else 30, "country": "US"} for a in ids
        ])
        conn.execute(insert(opportunities), [
            {"opportunity_id": f"O{a}", "account_id": a, "created_at": dt.date(2025, 1, 1),
             "closed_at": dt.date(2025, 2, 1), "stage": "won" if a[0] != "X" else "lost"} for a in ids
        ])
        adopters = SOFTWARE[:6] + RETAIL[:1] + ["X1"]
        conn.execute(insert(feature_usage), [
            {"account_id": a, "feature": "sso", "day": dt.date(2026, 10, d), "events": 10, "active_users": 3 + d}
            for a in adopters for d in (1, 2)
        ] + [{"account_id": "R2", "feature": "reports", "day": dt.date(2026, 10, 3), "events": 1,
              "active_users": 1}])
        # ARR a year before the latest month (2025-11) and now (2026-11): R0..R3 churn except R0; S7 churns.
        rows = []
        for a in SOFTWARE + RETAIL:
            rows.append({"account_id": a, "month": dt.date(2025, 11, 1), "arr": 100.0})
            rows.append({"account_id": a, "month": dt.date(2026, 9, 1), "arr": 100.0})
            now = 0.0 if a in ("R1", "R2", "R3", "S7") else 120.0
            rows.append({"account_id": a, "month": dt.date(2026, 11, 1), "arr": now})
        conn.execute(insert(arr_snapshots), rows)
    return engine


def test_by_industry(engine: Engine) -> None:
    res = feature_adoption(engine, feature="SSO", by="industry", window=resolve_window("90d", as_of=AS_OF))
    assert res.feature == "sso" and res.highest == "Software"
    assert (res.overall.n, res.overall.adopters) == (12, 7)
    soft = next(g for g in res.groups if g.group == "Software")
    assert (soft.n, soft.adopters, soft.rate) == (8, 6, 0.75)
    lo, hi = soft.interval
    assert lo < 0.75 < hi
    assert soft.events_per_adopter == 20 and soft.active_users_per_adopter == 5
    retail = next(g for g in res.groups if g.group == "Retail")
    assert retail.small is True and soft.small is False
    # Retention: adopters (6 software + R0) all retained at 120/100; non-adopters S6, S7, R1..R3.
    assert res.overall.adopters_retention.n == 7 and res.overall.adopters_retention.nrr == 1.2
    assert res.overall.adopters_retention.churned == 0
    non = res.overall.non_adopters_retention
    assert (non.n, non.churned, non.nrr) == (5, 4, pytest.approx(120 / 500))
    assert res.retention_months == ("2025-11-01", "2026-11-01")
    assert "7 of 12 customers" in res.summary


def test_window_excludes_old_usage_and_customers_gone_before_it(engine: Engine) -> None:
    res = feature_adoption(engine, feature="sso", by="industry", window=resolve_window("2026-11-01", as_of=AS_OF))
    assert res.overall.adopters == 0 and res.overall.rate == 0
    assert res.overall.n == 8  # R1..R3 and S7 churned (last ARR 2026-09) before the window


def test_small_groups_can_be_suppressed(engine: Engine) -> None:
    res = feature_adoption(engine, feature="sso", by="industry", window=resolve_window("90d", as_of=AS_OF))
    retail = next(g for g in res.groups if g.group == "Retail")
    retail.suppress()
    assert retail.suppressed and retail.rate is None and retail.adopters is None and retail.n == 4


def test_by_segment_and_size_band(engine: Engine) -> None:
    definition = ICPDefinition(name="t", segments=[
        Segment(id="soft", name="Software", conditions=[Condition(attribute="industry", value="Software")])
    ])
    window = resolve_window(as_of=AS_OF)
    res = feature_adoption(engine, feature="sso", by="segment", window=window, definition=definition)
    assert [g.group for g in res.groups] == ["Software", "(no segment)"] and res.segment_names == {"soft": "Software"}
    bands = feature_adoption(engine, feature="sso", by="size_band", window=window)
    expected = next(band_label(lo, hi) for lo, hi in bands_of("employees")
                    if (lo is None or 300 >= lo) and (hi is None or 300 < hi))
    assert bands.highest == expected


def test_errors(engine: Engine) -> None:
    window = resolve_window("90d", as_of=AS_OF)
    with pytest.raises(EngineError) as info:
        feature_adoption(engine, feature="sso2", window=window, by="industry")
    assert info.value.field == "feature" and info.value.allowed == ["reports", "sso"]
    with pytest.raises(EngineError) as info:
        feature_adoption(engine, feature="sso", window=window, by="color")
    assert info.value.field == "by" and "size_band" in info.value.allowed
    with pytest.raises(NoActiveICP):
        feature_adoption(engine, feature="sso", window=window, by="tier")

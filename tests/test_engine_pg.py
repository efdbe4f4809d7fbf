"""The engine's SQL is portable: derive, score, best customers, backtest, explain, adoption and versions
on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from test_engine_synth import build_synthetic, synthetic_archive

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.engine.derivation.backtest import backtest
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.model.profile import Disqualifier
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions.adoption import feature_adoption
from icp_mcp.engine.questions.disqualifiers import explain_disqualifier
from icp_mcp.engine.questions.drift import check_drift
from icp_mcp.engine.questions.voice import customer_voice
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache, rule_facts
from icp_mcp.engine.scoring.batch import score_all
from icp_mcp.engine.questions.value import best_customers
from icp_mcp.engine.sql.versions import activate, get_version, save_version

pytestmark = pytest.mark.postgres


def test_derive_and_score_agree_between_postgres_and_duckdb(pg_url, tmp_path, monkeypatch):
    pg = open_archive(pg_url)
    create_schema(pg)
    build_synthetic(pg, n_accounts=400, seed=4)
    duck, _ = synthetic_archive(tmp_path / "same.duckdb", n_accounts=400, seed=4)

    d_pg, d_duck = derive_icp(pg), derive_icp(duck)
    strip = {"derived_at", "personas"}
    assert d_pg.model_dump(exclude=strip) == d_duck.model_dump(exclude=strip)
    assert [p.evidence for p in d_pg.personas] == [p.evidence for p in d_duck.personas]

    assert score_all(pg, d_pg) == score_all(duck, d_duck)
    one_pg = score_account(pg, d_pg, account="a00007")
    one_duck = score_account(duck, d_duck, account="a00007")
    assert one_pg.points == one_duck.points and one_pg.tier == one_duck.tier
    assert score_account(pg, d_pg, account="ACCT7.example.com").account_id == "a00007"

    b_pg, b_duck = best_customers(pg, definition=d_pg, limit=5), best_customers(duck, definition=d_duck, limit=5)
    assert [b.account_id for b in b_pg.items] == [b.account_id for b in b_duck.items]
    assert (b_pg.n, b_pg.n_customers) == (b_duck.n, b_duck.n_customers)
    assert b_pg.total_revenue == pytest.approx(b_duck.total_revenue)
    bt_pg, bt_duck = backtest(pg, date(2024, 9, 1)), backtest(duck, date(2024, 9, 1))
    assert bt_pg.auc == bt_duck.auc and bt_pg.n == bt_duck.n

    if d_pg.disqualifiers:
        rule = d_pg.disqualifiers[0].id
        e_pg, e_duck = explain_disqualifier(pg, d_pg, rule_id=rule), explain_disqualifier(duck, d_duck, rule_id=rule)
        assert e_pg.model_dump() == e_duck.model_dump()
    recent = resolve_window("365d", None, date(2025, 6, 1))  # 35 recent and 38 baseline wins: every check runs
    drift_pg, drift_duck = check_drift(pg, d_pg, recent=recent), check_drift(duck, d_duck, recent=recent)
    assert drift_pg.verdict != "insufficient_data" and drift_pg.model_dump() == drift_duck.model_dump()
    with pg.connect() as conn:  # a free-text question: the score computed once, in a MATERIALIZED CTE
        asked = customer_voice(conn, window=resolve_window("2023-01-01", "2025-12-31", date(2025, 12, 31)),
                               question="pricing")
    assert asked.total > 0 and all("pricing" in q.text.lower() for q in asked.quotes)
    v = save_version(pg, d_pg, "pg")
    activate(pg, v, "pg")
    assert get_version(pg).definition.criteria == d_pg.criteria

    # a hand-written rule (the synthetic ICP derives none): its facts and the caller's view agree
    rule = Disqualifier(id="dq-retail", attribute="industry", values=["Retail", "Media"])
    for view in (None, ["EMEA"], []):
        e_pg = explain_disqualifier(pg, d_pg.model_copy(update={"disqualifiers": [rule]}), rule_id=rule.id,
                                    territories=view)
        e_duck = explain_disqualifier(duck, d_duck.model_copy(update={"disqualifiers": [rule]}), rule_id=rule.id,
                                      territories=view)
        assert e_pg.model_dump() == e_duck.model_dump() and e_pg.n_exceptions > 0
    # the stored ICP state of a version with that rule: its stored facts and adoption by segment and tier
    for e, d in ((pg, d_pg), (duck, d_duck)):
        activate(e, save_version(e, d.model_copy(update={"disqualifiers": [rule]}), "test"), "test")
        assert state.build(e) is not None
    d_pg, d_duck = get_version(pg).definition, get_version(duck).definition
    assert state.account_version(pg, d_pg) is not None and state.account_version(duck, d_duck) is not None
    for view in (None, ["EMEA"]):
        e_pg = explain_disqualifier(pg, d_pg, rule_id=rule.id, territories=view)
        assert e_pg.model_dump() == explain_disqualifier(duck, d_duck, rule_id=rule.id, territories=view).model_dump()
    for e, d in ((pg, d_pg), (duck, d_duck)):  # read from the stored facts, not recomputed
        with e.connect() as conn:
            stored = rule_facts.read(conn, state.account_version(e, d), rule.id)
        assert stored is not None and len(stored.exceptions) == e_pg.n_exceptions
    window = resolve_window("365d", None, date(2025, 12, 31))
    computed: dict[str, dict] = {}
    for by in ("segment", "tier"):
        a_pg, a_duck = (feature_adoption(e, feature="sso", by=by, window=window, definition=d)
                        for e, d in ((pg, d_pg), (duck, d_duck)))
        assert a_pg.overall.n > 0 and a_pg.model_dump() == a_duck.model_dump(), by
        computed[by] = a_pg.model_dump()
    # adoption's stored sums (the default window ending on the state's day, here pinned) give the same answers
    monkeypatch.setattr(state, "today", lambda: window.as_of)
    for e in (pg, duck):
        assert state.build(e, force=True) is not None
    cache.clear()
    for by in ("segment", "tier"):
        s_pg, s_duck = (feature_adoption(e, feature="sso", by=by, window=window, definition=d).model_dump()
                        for e, d in ((pg, d_pg), (duck, d_duck)))
        assert s_pg == s_duck == computed[by], by
    assert cache.computations().get("adoption_stored") == 4

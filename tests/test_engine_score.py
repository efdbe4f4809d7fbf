"""Scoring one account (id, domain, name, prospect) and all accounts with the same points table."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_engine_synth import synthetic_archive

from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.questions.disqualifiers import explain_disqualifier
from icp_mcp.engine.model.errors import EngineError, NotFound
from icp_mcp.engine.scoring.results import AccountCandidates, AccountScore
from icp_mcp.engine.scoring.batch import account_scores_query, score_all
from icp_mcp.engine.scoring.one import score_account
from icp_mcp.engine.questions.value import best_customers


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    engine, _ = synthetic_archive(tmp_path_factory.mktemp("score") / "s.duckdb", n_accounts=900, seed=2)
    return engine, derive_icp(engine)


def test_one_account_by_id_domain_and_exact_name(synth):
    engine, d = synth
    by_id = score_account(engine, d, account="a00010")
    assert isinstance(by_id, AccountScore) and by_id.account_id == "a00010"
    by_domain = score_account(engine, d, account="https://www.ACCT10.example.com/")
    by_name = score_account(engine, d, account=by_id.name.upper())
    assert by_domain.account_id == by_name.account_id == "a00010"
    assert 0 <= by_id.fit_score <= 100 and by_id.tier in "ABCD"
    assert 0 < by_id.win_probability < 1
    assert len(by_id.met) + len(by_id.missed) >= len(d.criteria)
    assert all(h.evidence is not None for h in by_id.met + by_id.missed)


def test_ambiguous_and_unknown_names_give_candidates(synth):
    engine, d = synth
    result = score_account(engine, d, account="northwind")
    assert isinstance(result, AccountCandidates) and 1 < len(result.candidates) <= 10
    with pytest.raises(NotFound) as info:
        score_account(engine, d, account="Northwnd Helthcare 12")
    assert info.value.field == "account" and info.value.candidates


def test_prospect_attributes_are_validated(synth):
    engine, d = synth
    fit = score_account(engine, d, attributes={"industry": "healthcare", "employees": 400,
                                               "technology": ["Snowflake"]})
    assert fit.account_id is None and fit.tier in "AB" and fit.segments
    assert fit.similar_best_customers and fit.similar_best_customers[0].shared >= 2
    with pytest.raises(EngineError) as info:
        score_account(engine, d, attributes={"industri": "Healthcare"})
    assert info.value.field == "attributes" and "industry" in info.value.allowed
    with pytest.raises(EngineError) as info:
        score_account(engine, d, attributes={"employees": "many"})
    assert info.value.field == "attributes.employees"
    with pytest.raises(EngineError):
        score_account(engine, d)


def test_disqualifier_forces_tier_d_and_names_the_rule(synth):
    engine, d = synth
    gov = score_account(engine, d, attributes={"industry": "Government", "employees": 400})
    assert gov.tier == "D" and gov.disqualifiers[0].id == "dq-industry-government"
    assert gov.disqualifiers[0].sentence and gov.disqualifiers[0].evidence.n > 0
    why = explain_disqualifier(engine, d, rule_id="dq-industry-government")
    assert why.sentence and why.recent.window_days == 180 and why.n_exceptions >= 0
    with pytest.raises(EngineError) as info:
        explain_disqualifier(engine, d, rule_id="nope")
    assert "dq-industry-government" in info.value.allowed


def test_batch_scores_agree_with_single_scores(synth):
    engine, d = synth
    summary = score_all(engine, d)
    assert summary.n == 900 and sum(summary.tiers.values()) == 900 and summary.disqualified > 0
    with engine.connect() as conn:
        rows = {r.account_id: r for r in conn.execute(account_scores_query(d))}
    for aid in ("a00001", "a00002", "a00050", "a00100", "a00222", "a00400"):
        one = score_account(engine, d, account=aid)
        assert rows[aid].points == pytest.approx(one.points), aid
        assert rows[aid].tier == one.tier, aid


def test_best_customers_page_with_components(synth):
    engine, d = synth
    page = best_customers(engine, definition=d, limit=5)
    assert page.n > 5 and len(page.items) == 5 and page.truncated and page.next_offset == 5
    assert page.revenue_share >= 0.8 and page.items[0].rank == 1
    assert page.items[0].components.lifetime_revenue > 0
    top = best_customers(engine, top_n=10, limit=20)
    assert top.n == 10 and len(top.items) == 10 and not top.truncated
    with pytest.raises(EngineError) as info:
        best_customers(engine, definition=d, segment="zz")
    assert info.value.field == "segment"


def test_scores_query_is_reusable_as_a_cohort(synth):
    engine, d = synth
    q = account_scores_query(d).subquery()
    with engine.connect() as conn:
        a_tier = conn.execute(select(q.c.account_id).where(q.c.tier == "A")).scalars().all()
    assert a_tier


def test_explain_by_account_and_personas(synth):
    from icp_mcp.engine.derivation.personas import personas
    from icp_mcp.engine.scoring.batch import account_scores_query

    engine, d = synth
    q = account_scores_query(d).subquery()
    with engine.connect() as conn:
        hit = conn.execute(select(q.c.account_id).where(q.c.disqualified == 1).limit(1)).scalar()
    why = explain_disqualifier(engine, d, account=hit)
    assert why.account_id == hit and why.rule.id in why.account_hits
    people = personas(engine, d)
    buyer = next(p for p in people if p.role == "economic_buyer")
    assert buyer.supported and buyer.evidence.lift > 1 and buyer.evidence.n >= 10
    assert any(p.topics for p in people)

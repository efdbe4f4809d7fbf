"""Scoring: one account (by id, domain or name, or raw prospect attributes) or every account in one SQL join.

The same points table serves both paths: `score_account` evaluates the definition in Python on one
account's attribute rows; `score_all` joins the points table to the attribute relation in one statement.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, Select, func, select

from icp_mcp.engine import stats
from icp_mcp.engine.cache import cached
from icp_mcp.engine.errors import EngineError
from icp_mcp.engine.points import deal_groups_query, fit_case, points_query, tier_case
from icp_mcp.engine.profile import TIERS, Calibration, Evidence, ICPDefinition, Tiers


class CriterionHit(BaseModel):
    id: str
    condition: str = Field(description="readable condition, e.g. 'industry = Healthcare'")
    attribute: str
    account_value: str | None = Field(default=None, description="the account's value for the attribute")
    points: int
    evidence: Evidence | None = None


class DisqualifierHit(BaseModel):
    id: str
    condition: str
    sentence: str
    evidence: Evidence | None = None


class SimilarCustomer(BaseModel):
    account_id: str
    name: str
    shared: int = Field(description="attribute values shared with the scored account")
    shared_values: list[str]


class AccountScore(BaseModel):
    """Fit and win probability of one account or prospect, with the criteria behind them."""

    account_id: str | None = None
    name: str | None = None
    domain: str | None = None
    territory: str | None = None
    icp_name: str
    points: float
    fit_score: float = Field(ge=0, le=100)
    tier: str
    win_probability: float | None = None
    segments: list[str] = Field(default_factory=list, description="ids of the segments the account is in")
    met: list[CriterionHit]
    missed: list[CriterionHit]
    disqualifiers: list[DisqualifierHit]
    similar_best_customers: list[SimilarCustomer] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict, description="the attribute values scored")


class Candidate(BaseModel):
    account_id: str
    name: str
    domain: str | None = None
    territory: str | None = None


class AccountCandidates(BaseModel):
    """The query matched several accounts (or only approximately): pick one and ask again."""

    query: str
    message: str
    candidates: list[Candidate]


class ScoreSummary(BaseModel):
    """Tier counts over every account in the archive."""

    n: int
    tiers: dict[str, int]
    disqualified: int
    mean_fit: float | None = None


def score_account(
    engine: Engine,
    definition: ICPDefinition,
    *,
    account: str | None = None,
    attributes: dict | None = None,
) -> AccountScore | AccountCandidates:
    """Score one archived account (id, domain or name) or a prospect given as raw attributes."""
    from icp_mcp.engine.scoring_one import score_one

    return score_one(engine, definition, account=account, attributes=attributes)


def account_scores_query(definition: ICPDefinition, engine: Engine | None = None) -> Select:
    """SELECT account_id, points, disqualified, fit_score, tier over every account (for drift, voice and
    adoption). A definition without tier cut-offs needs `engine` to compute them."""
    definition = ensure_tiers(engine, definition)
    p = points_query(definition, as_of=datetime.now()).subquery("p")
    return select(
        p.c.account_id, p.c.points, p.c.disqualified,
        fit_case(definition, p.c.points).label("fit_score"),
        tier_case(definition.tiers, p.c.points, p.c.disqualified).label("tier"),
    )


def score_all(engine: Engine, definition: ICPDefinition) -> ScoreSummary:
    """Score every account in one SQL statement and return the tier counts."""
    s = account_scores_query(definition, engine).subquery("s")
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.c.tier, func.count(), func.sum(s.c.disqualified), func.sum(s.c.fit_score)).group_by(s.c.tier)
        ).all()
    counts = {t: 0 for t in TIERS}
    n = dq = 0
    fit_sum = 0.0
    for tier, c, d, f in rows:
        counts[tier] = int(c)
        n += int(c)
        dq += int(d or 0)
        fit_sum += float(f or 0)
    return ScoreSummary(n=n, tiers=counts, disqualified=dq, mean_fit=round(fit_sum / n, 2) if n else None)


def points_histogram(engine: Engine, definition: ICPDefinition) -> list[tuple[float, int, int]]:
    """(points, disqualified, accounts) over every account."""
    p = points_query(definition, as_of=datetime.now()).subquery("p")
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.c.points, p.c.disqualified, func.count()).group_by(p.c.points, p.c.disqualified)
        ).all()
    return [(float(a), int(b), int(c)) for a, b, c in rows]


def cut_offs(histogram: list[tuple[float, int, int]], shares: tuple[float, float, float] = (0.15, 0.20, 0.30)
             ) -> Tiers:
    """Point cut-offs for A (top 15%), B (next 20%), C (next 30%) of scored accounts; the floor is never C."""
    scored = [(p, n) for p, d, n in histogram if not d]
    if not scored:
        return Tiers(a=math.inf, b=math.inf, c=math.inf, shares=shares)
    floor = min(p for p, _ in scored)
    above = sorted({p for p, _ in scored if p > floor})
    lift_floor = above[0] if above else floor + 1
    cuts = []
    acc = 0.0
    for share in shares:
        acc += share
        cut = stats.quantile_cut(scored, acc)
        cuts.append(cut if cut > floor else lift_floor)
    a, b, c = cuts
    b, c = min(b, a), min(c, b, a)
    return Tiers(a=a, b=b, c=c, shares=shares)


def ensure_tiers(engine: Engine | None, definition: ICPDefinition) -> ICPDefinition:
    """The definition with tier cut-offs (computed on the archive when it has none, e.g. hand-written YAML)."""
    if definition.tiers is not None:
        return definition
    if engine is None:
        raise EngineError("tiers", "the definition has no tier cut-offs; pass the archive engine to compute them")
    key = ("tiers", definition.model_dump_json(exclude={"derived_at"}))
    tiers = cached(engine, key, lambda: cut_offs(points_histogram(engine, definition)))
    return definition.model_copy(update={"tiers": tiers})


def fit_tiers_and_calibration(engine: Engine, definition: ICPDefinition, *, closed_before: date | None = None
                              ) -> ICPDefinition:
    """Fill tier cut-offs (on every account) and Platt calibration (on won/lost deals before the cut)."""
    tiers = cut_offs(points_histogram(engine, definition))
    with engine.connect() as conn:
        groups = conn.execute(deal_groups_query(definition, closed_before=closed_before)).all()
    fit = [(float(p), int(n), int(w)) for p, d, n, w in groups if not d]
    calibration = None
    if fit:
        a, b = stats.platt_grouped(fit)
        calibration = Calibration(a=round(a, 6), b=round(b, 6), n=sum(n for _, n, _ in fit))
    return definition.model_copy(update={"tiers": tiers, "calibration": calibration})

"""Scoring every account in one SQL statement: the points, fit and tier of each account, and tier counts."""

from __future__ import annotations

from sqlalchemy import Engine, Select, func, select

from icp_mcp.archive.clock import utc_now
from icp_mcp.engine.model.profile import TIERS, ICPDefinition
from icp_mcp.engine.scoring.results import ScoreSummary
from icp_mcp.engine.scoring.tiers import ensure_tiers
from icp_mcp.engine.sql.points import fit_case, points_query, tier_case


def account_scores_query(definition: ICPDefinition, engine: Engine | None = None) -> Select:
    """SELECT account_id, points, disqualified, fit_score, tier over every account (for drift, voice and
    adoption). A definition without tier cut-offs needs `engine` to compute them."""
    definition = ensure_tiers(engine, definition)
    p = points_query(definition, as_of=utc_now()).subquery("p")
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

"""The points table as SQL: every account's scorecard points and disqualifier flag, in one statement.

`points_query` is the batch path of scoring (DESIGN: "scoring a million uses the same points table, as one
SQL join"); tiers, calibration, backtests, drift and cohorts all build on it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, Integer, Select, case, cast, func, literal, select, union_all

from icp_mcp.archive.schema import accounts, opportunities
from icp_mcp.engine.labels import closed_deals_where
from icp_mcp.engine.matching import matches_query, members_query
from icp_mcp.engine.profile import ICPDefinition, Tiers


def points_query(definition: ICPDefinition, *, as_of: datetime | None = None,
                 include_triggers: bool = True) -> Select:
    """account_id, points, disqualified (0/1) for every account in the archive.

    Triggers count when a signal fell within the window before the account's latest opportunity or `as_of`;
    `include_triggers=False` leaves them out (deal-level callers add each deal's own triggers).
    """
    window = definition.trigger_window_days
    lines = [(c.id, c, c.points) for c in definition.criteria if include_triggers or c.attribute != "trigger"]
    crit = matches_query(lines, as_of=as_of, trigger_window_days=window).subquery("crit")
    summed = select(crit.c.account_id, func.sum(crit.c.points).label("points")).group_by(
        crit.c.account_id).subquery("summed")
    dq = matches_query([(d.id, d, 0) for d in definition.disqualifiers], as_of=as_of,
                       trigger_window_days=window).subquery("dq")
    hit = select(dq.c.account_id).distinct().subquery("hit")
    bonus_parts = [
        select(m.c.account_id, literal(float(seg.points)).label("points"))
        for seg in definition.segments if seg.points
        for m in [members_query(seg.conditions, as_of=as_of, trigger_window_days=window).subquery(f"seg_{seg.id}")]
    ]
    if bonus_parts:
        crit_rows = select(crit.c.account_id, cast(crit.c.points, Float).label("points"))
        every = union_all(crit_rows, *bonus_parts).subquery("every")
        summed = select(every.c.account_id, func.sum(every.c.points).label("points")).group_by(
            every.c.account_id).subquery("summed_all")
    a = accounts
    return (
        select(
            a.c.account_id,
            cast(func.coalesce(summed.c.points, 0), Float).label("points"),
            case((hit.c.account_id.is_not(None), 1), else_=0).label("disqualified"),
        )
        .select_from(a)
        .outerjoin(summed, summed.c.account_id == a.c.account_id)
        .outerjoin(hit, hit.c.account_id == a.c.account_id)
    )


def tier_case(tiers: Tiers, points_col, disqualified_col):
    """CASE expression giving the tier letter from points and the disqualifier flag."""
    return case(
        (disqualified_col == 1, literal("D")),
        (points_col >= tiers.a, literal("A")),
        (points_col >= tiers.b, literal("B")),
        (points_col >= tiers.c, literal("C")),
        else_=literal("D"),
    )


def fit_case(definition: ICPDefinition, points_col):
    """SQL expression for fit_score 0–100 (same formula as `ICPDefinition.fit_score`)."""
    lo, hi = definition.min_points(), definition.max_points()
    if hi <= lo:
        return literal(0.0)
    raw = 100.0 * (points_col - lo) / (hi - lo)
    return case((raw < 0, 0.0), (raw > 100, 100.0), else_=raw)


def deal_groups_query(definition: ICPDefinition, *, closed_before: date | None = None,
                      created_from: date | None = None) -> Select:
    """(points, disqualified, deals, wins) over closed deals (before the cut, or created on/after a date);
    each deal gets its account's points plus the triggers that preceded that deal."""
    from icp_mcp.engine.triggers import deal_trigger_points_query

    p = points_query(definition, include_triggers=False).subquery("p")
    t = deal_trigger_points_query(definition).subquery("t")
    o = opportunities
    where = closed_deals_where(closed_before)
    if created_from is not None:
        where = where & (o.c.created_at >= created_from)
    won = func.sum(case((o.c.stage == "won", 1), else_=0))
    total = (p.c.points + func.coalesce(t.c.points, 0.0)).label("points")
    return (
        select(total, p.c.disqualified, func.count().label("deals"), cast(won, Integer).label("wins"))
        .select_from(o.join(p, p.c.account_id == o.c.account_id)
                     .outerjoin(t, t.c.opportunity_id == o.c.opportunity_id))
        .where(where)
        .group_by(total, p.c.disqualified)
    )

"""The points table as SQL: every account's scorecard points and disqualifier flag, in one statement.

`points_query` is the batch path of scoring (DESIGN: "scoring a million uses the same points table, as one
SQL join"); tiers, calibration, backtests, drift and cohorts all build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)

from icp_mcp.archive.schema import accounts, opportunities
from icp_mcp.engine.sql.attributes import account_expr, value_expr
from icp_mcp.engine.model.catalogue import is_multi_valued, is_numeric
from icp_mcp.engine.sql.labels import closed_deals_where
from icp_mcp.engine.sql.matching import matches_query
from icp_mcp.engine.model.profile import Condition, Criterion, ICPDefinition, Tiers
from icp_mcp.engine.sql.triggers import deal_trigger_points_query


def multi_flags(conditions: list[tuple[str, Condition]], as_of: datetime | None, window: int):
    """One row per account with a 0/1 column per multi-valued condition (technology, trigger); the max per
    account folds repeated matches, so the matches are not made distinct first."""
    m = matches_query([(k, c, 0) for k, c in conditions], as_of=as_of, trigger_window_days=window,
                      distinct=False).subquery("mv")
    return (select(m.c.account_id, *(func.max(case((m.c.key == k, 1), else_=0)).label(k) for k, _ in conditions))
            .group_by(m.c.account_id).subquery("flags"))


def flagged_accounts(keyed: list[tuple[str, Condition]], as_of: datetime | None, window: int
                     ) -> tuple[FromClause, dict[int, ColumnElement]]:
    """`accounts`, outer-joined to the 0/1 flags of the keyed multi-valued conditions when there are any,
    and the flag column of each condition (by `id`) for `condition_test`."""
    if not keyed:
        return accounts, {}
    flags = multi_flags(keyed, as_of, window)
    source = accounts.outerjoin(flags, flags.c.account_id == accounts.c.account_id)
    return source, {id(c): func.coalesce(flags.c[k], 0) for k, c in keyed}


def condition_test(cond: Condition, flag_of: dict[int, ColumnElement]) -> ColumnElement:
    """The condition as a boolean SQL expression on one accounts row (or its multi-valued flag)."""
    if is_multi_valued(cond.attribute):
        return flag_of[id(cond)] == 1
    if is_numeric(cond.attribute):
        col = account_expr(cond.attribute)
        tests = ([col >= cond.range.min] if cond.range.min is not None else []) + (
            [col < cond.range.max] if cond.range.max is not None else [])
        return and_(*tests)
    return func.lower(value_expr(cond.attribute)).in_([v.lower() for v in cond.accepted()])


def points_query(definition: ICPDefinition, *, as_of: datetime | None = None,
                 include_triggers: bool = True) -> Select:
    """account_id, points, disqualified (0/1) for every account in the archive, in one scan of `accounts`.

    Single-valued attributes are CASE expressions on the account row; technologies and triggers come from
    one grouped subquery of 0/1 flags. Triggers count when a signal fell within the window before the
    account's latest opportunity or `as_of`; `include_triggers=False` leaves trigger lines out (deal-level
    callers add each deal's own triggers).
    """
    source, lines, bonuses, dq, _ = _scorecard(definition, as_of, include_triggers)
    return select(accounts.c.account_id, _points([t for _, t in lines] + bonuses).label("points"),
                  dq.label("disqualified")).select_from(source)


def points_parts_query(definition: ICPDefinition, *, as_of: datetime | None = None,
                       members: Sequence[Sequence[Condition]] = ()) -> Select:
    """account_id, points (without trigger lines), triggers (the trigger lines' points as of `as_of`),
    disqualified, and m0, m1, … (0/1: the account meets every condition of `members[i]`, e.g. candidate
    segments): one scan serving the segment bonuses, the tier histogram (points + triggers, as
    `points_query` with triggers) and the deal groups (points, plus each deal's own triggers)."""
    source, lines, bonuses, dq, tests = _scorecard(definition, as_of, True, members)
    return select(accounts.c.account_id,
                  _points([t for trigger, t in lines if not trigger] + bonuses).label("points"),
                  _points([t for trigger, t in lines if trigger]).label("triggers"),
                  dq.label("disqualified"),
                  *(case((t, 1), else_=0).label(f"m{i}") for i, t in enumerate(tests))).select_from(source)


def _points(terms: list[ColumnElement]) -> ColumnElement:
    return cast(sum(terms[1:], terms[0]) if terms else literal(0.0), Float)


def _scorecard(definition: ICPDefinition, as_of: datetime | None, include_triggers: bool,
               members: Sequence[Sequence[Condition]] = ()
               ) -> tuple[FromClause, list[tuple[bool, ColumnElement]], list[ColumnElement], ColumnElement,
                          list[ColumnElement]]:
    """The accounts (with multi-valued flags), the criteria's point terms in order (is it a trigger line,
    a CASE giving its points), the segment bonuses' terms, the disqualified (0/1) expression and a test
    per `members` entry (all of its conditions hold)."""
    window = definition.trigger_window_days
    lines = [c for c in definition.criteria if include_triggers or c.attribute != "trigger"]
    bonuses = [s for s in definition.segments if s.points]
    every = [*lines, *definition.disqualifiers, *(c for s in bonuses for c in s.conditions),
             *(c for conds in members for c in conds)]
    multi = [c for c in every if is_multi_valued(c.attribute)]
    source, flag_of = flagged_accounts([(f"f{i}", c) for i, c in enumerate(multi)], as_of, window)

    def term(c: Criterion) -> ColumnElement:
        return case((condition_test(c, flag_of), float(c.points)), else_=0.0)

    terms = [(c.attribute == "trigger", term(c)) for c in lines if c.points]
    bonus = [case((and_(*(condition_test(c, flag_of) for c in s.conditions)), float(s.points)), else_=0.0)
             for s in bonuses]
    dq = or_(*(condition_test(d, flag_of) for d in definition.disqualifiers)) if definition.disqualifiers else None
    tests = [and_(*(condition_test(c, flag_of) for c in conds)) for conds in members]
    return source, terms, bonus, (case((dq, 1), else_=0) if dq is not None else literal(0)), tests


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
                      created_from: date | None = None, points: FromClause | None = None,
                      deal_kinds: FromClause | None = None) -> Select:
    """(points, disqualified, deals, wins) over closed deals (before the cut, or created on/after a date);
    each deal gets its account's points plus the triggers that preceded that deal. `points`: the accounts'
    (account_id, points without trigger lines, disqualified) when already computed (`points_parts_query`);
    `deal_kinds`: the closed deals' signal kinds (`triggers.closed_deal_kinds`) when already computed."""

    p = points if points is not None else points_query(definition, include_triggers=False).subquery("p")
    t = deal_trigger_points_query(definition, deal_kinds).subquery("t")
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


def condition_members(cond: Condition, *, as_of: datetime | None = None, window: int = 90) -> Select:
    """account_id of every account meeting `cond` (same rule as `matches_query`): one scan of `accounts`
    with the condition as a test on the row, plus the 0/1 flag subquery only for a technology or trigger.
    Cheaper than the attribute relation's join when one condition is asked (explaining a disqualifier)."""
    multi = [("f0", cond)] if is_multi_valued(cond.attribute) else []
    source, flag_of = flagged_accounts(multi, as_of, window)
    return select(accounts.c.account_id).select_from(source).where(condition_test(cond, flag_of))

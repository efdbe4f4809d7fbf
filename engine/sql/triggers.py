"""Triggers are deal-level: a signal kind seen within the window before an opportunity was created.

Derivation compares the win rate of closed deals with each trigger to the deal base rate; backtests and
calibration score each deal with the triggers that preceded that deal (not the account's latest ones).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, FromClause, Select, and_, case, func, literal, select

from icp_mcp.archive.schema import opportunities, signals
from icp_mcp.engine.sql.labels import closed_deals_where
from icp_mcp.engine.sql.matching import condition_table
from icp_mcp.engine.model.profile import ICPDefinition


def _deal_kinds(window_days: int, kinds: list[str] | None = None, deals=None) -> Select:
    """DISTINCT (opportunity_id, kind, won) for signals within the window before each opportunity (`deals`
    only, a condition on opportunities, when given); only signals of `kinds` (lower case) when given, so the
    range join reads only the signals a caller can use."""
    o, s = opportunities, signals
    window = literal(timedelta(days=window_days))
    on = and_(s.c.account_id == o.c.account_id, s.c.occurred_at <= o.c.created_at,
              s.c.occurred_at >= o.c.created_at - window)
    if kinds is not None:
        on = and_(on, func.lower(s.c.kind).in_(kinds))
    stmt = select(o.c.opportunity_id, s.c.kind, case((o.c.stage == "won", 1), else_=0).label("won"))
    stmt = stmt.select_from(o.join(s, on))
    return (stmt.where(deals) if deals is not None else stmt).distinct()


def closed_deal_kinds(window_days: int, closed_before: date | None) -> Select:
    """DISTINCT (opportunity_id, kind, won) of the closed deals before the cut, every signal kind: what a
    derivation's trigger counts and its calibration both read (computed once, `temp.once`)."""
    return _deal_kinds(window_days, deals=closed_deals_where(closed_before))


def trigger_counts(conn: Connection, closed_before: date | None, deal_kinds: FromClause
                   ) -> tuple[int, int, list[tuple[str, int, int]]]:
    """(closed deals, wins, [(kind, deals with it, wins with it)]) over closed deals before the cut;
    `deal_kinds`: `closed_deal_kinds` for the same cut (and the trigger window)."""
    o = opportunities
    where = closed_deals_where(closed_before)
    won = case((o.c.stage == "won", 1), else_=0)
    n, w = conn.execute(select(func.count(), func.coalesce(func.sum(won), 0)).where(where)).one()
    dk = deal_kinds
    rows = conn.execute(select(dk.c.kind, func.count(), func.sum(dk.c.won)).group_by(dk.c.kind)).all()
    return int(n), int(w), [(k, int(c), int(x or 0)) for k, c, x in rows]


def deal_trigger_points_query(definition: ICPDefinition, deal_kinds: FromClause | None = None) -> Select:
    """(opportunity_id, points) summed over the trigger criteria met by each deal; `deal_kinds`: the
    (opportunity_id, kind) rows to read (`closed_deal_kinds` for the definition's window) when the caller
    holds them and needs only those deals."""
    keyed = [(c.id, c, c.points) for c in definition.criteria if c.attribute == "trigger"]
    if not keyed:
        return select(literal("").label("opportunity_id"), literal(0.0).label("points")).where(literal(False))
    kinds = sorted({v.lower() for _, c, _ in keyed for v in c.accepted()})
    dk = deal_kinds if deal_kinds is not None else _deal_kinds(definition.trigger_window_days, kinds).subquery("dk")
    conds = condition_table(keyed)
    met = (select(dk.c.opportunity_id, conds.c.key, conds.c.points)
           .select_from(dk.join(conds, func.lower(dk.c.kind) == conds.c.value)).distinct().subquery("met"))
    return select(met.c.opportunity_id, func.sum(met.c.points).label("points")).group_by(met.c.opportunity_id)

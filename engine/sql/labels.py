"""The worked population and its labels, as SQL: one row per account with a closed deal before the cut.

`best` marks the positives of derivation (retained customers by default, or the best-customer cohort); `won` marks any won deal; `retained`
is 1/0 for customers with ARR data and NULL otherwise.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, Integer, Select, case, cast, func, select, true

from icp_mcp.archive.schema import arr_snapshots, opportunities
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.profile import ValueWeights
from icp_mcp.engine.sql.value_sql import ranked_customers_query
from icp_mcp.engine.sql.value_sql import cohort_rule

POSITIVES = ("retained", "best")

#: Fewest closed deals of each outcome a derivation needs: below this the contrast between best customers
#: and the rest rests on too few accounts to name criteria, and `icp derive` refuses (exit code 3).
MIN_WON_DEALS = 30
MIN_LOST_DEALS = 30


def positives_rule(positives: str, top_n: int | None) -> str:
    """A sentence naming who counted as positive in a derivation."""

    if positives == "best":
        return "best customers: " + cohort_rule(top_n)
    return "retained customers (a won deal and no churn: latest ARR > 0 or no ARR data)"


def closed_deals_where(closed_before: date | None):
    """Closed (won or lost) deals with a close date, before the cut when one is given."""
    o = opportunities
    cond = o.c.stage.in_(("won", "lost")) & o.c.closed_at.is_not(None)
    return cond & (true() if closed_before is None else o.c.closed_at < closed_before)


def closed_deal_counts(engine: Engine, closed_before: date | None = None) -> tuple[int, int]:
    """(won, lost) closed deals before the cut (all when None)."""
    o = opportunities
    with engine.connect() as conn:
        won, lost = conn.execute(select(
            func.coalesce(func.sum(case((o.c.stage == "won", 1), else_=0)), 0),
            func.coalesce(func.sum(case((o.c.stage == "lost", 1), else_=0)), 0),
        ).where(closed_deals_where(closed_before))).one()
    return int(won), int(lost)


def insufficiency(won: int, lost: int) -> str | None:
    """A sentence with the counts found and needed when they are below the minimum, else None."""
    if won >= MIN_WON_DEALS and lost >= MIN_LOST_DEALS:
        return None
    return (f"not enough closed deals to derive an ICP: found {won} won and {lost} lost, need at least "
            f"{MIN_WON_DEALS} won and {MIN_LOST_DEALS} lost")


def _retained_query(closed_before: date | None) -> Select:
    """account_id, retained (1 when the latest ARR snapshot before the cut is > 0) for customers with ARR data."""
    s = arr_snapshots
    won = select(opportunities.c.account_id).where(
        opportunities.c.stage == "won", closed_deals_where(closed_before))
    cut = true() if closed_before is None else s.c.month < closed_before
    last = select(s.c.account_id, func.max(s.c.month).label("month")).where(cut).group_by(
        s.c.account_id).subquery("last_arr")
    return (
        select(s.c.account_id, case((s.c.arr > 0, 1), else_=0).label("retained"))
        .join(last, (last.c.account_id == s.c.account_id) & (last.c.month == s.c.month))
        .where(s.c.account_id.in_(won))
    )


def labels_query(
    closed_before: date | None = None, weights: ValueWeights | None = None, top_n: int | None = None,
    positives: str = "retained", exclude: Select | None = None,
) -> Select:
    """account_id, best (0/1: the positives), won (0/1), retained (0/1/NULL) for every worked account.

    `positives="retained"`: customers that have not churned; `"best"`: the best-customer cohort (by value).
    `exclude` (a selectable of account_id) leaves those accounts out, e.g. the disqualified ones.
    """
    o = opportunities
    pop = (
        select(o.c.account_id, func.max(case((o.c.stage == "won", 1), else_=0)).label("won"))
        .where(closed_deals_where(closed_before))
        .group_by(o.c.account_id)
    ).subquery("pop")
    if positives not in POSITIVES:
        raise EngineError("positives", f"unknown rule {positives!r}", list(POSITIVES))
    if positives == "best":
        r = ranked_customers_query(closed_before, weights, top_n).subquery("ranked")
        positive = case((r.c.in_best, 1), else_=0)
    else:  # the light path: no value score needed, only the latest ARR
        r = _retained_query(closed_before).subquery("ranked")
        positive = case(((pop.c.won == 1) & (func.coalesce(r.c.retained, 1) == 1), 1), else_=0)
    stmt = (
        select(
            pop.c.account_id,
            positive.label("best"),
            cast(pop.c.won, Integer).label("won"),
            r.c.retained,
        )
        .select_from(pop)
        .outerjoin(r, r.c.account_id == pop.c.account_id)
    )
    if exclude is not None:
        stmt = stmt.where(pop.c.account_id.not_in(exclude))
    return stmt


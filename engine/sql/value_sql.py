"""SQL for customer value: one row per customer with its value components, score, rank and cohort flag.

Kept apart from `value.py` (the public result shapes) so that derivation, drift and voice can reuse the
cohort as a subquery without running it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Boolean, Float, Select, and_, case, cast, func, literal, null, select, true

from icp_mcp.archive.clock import today
from icp_mcp.archive.schema import arr_snapshots, conversations, feature_usage, opportunities
from icp_mcp.engine.model.profile import ValueWeights

REVENUE_SHARE = 0.80
#: The value score's components, in the order of `ValueWeights` (names as in the weights).
VALUE_COMPONENTS: tuple[str, ...] = ("arr", "lifetime_revenue", "nrr", "retained", "time_to_value", "support_load")
DAYS_PER_MONTH = 30.44


def _before(col, closed_before: date | None):
    return true() if closed_before is None else col < closed_before


def customer_values_query(closed_before: date | None = None, weights: ValueWeights | None = None) -> Select:
    """Customers (accounts with a won deal closed before the cut) with value components and value_score."""
    w = weights or ValueWeights()
    o, s, u, cv = opportunities, arr_snapshots, feature_usage, conversations
    ref = literal(closed_before or today())

    won = (
        select(o.c.account_id, func.min(o.c.closed_at).label("first_won_at"),
               func.sum(func.coalesce(o.c.amount, 0.0)).label("won_amount"))
        .where(o.c.stage == "won", o.c.closed_at.is_not(None), _before(o.c.closed_at, closed_before))
        .group_by(o.c.account_id)
    ).cte("won")
    arr = select(s.c.account_id, s.c.month, s.c.arr).where(_before(s.c.month, closed_before)).cte("arr")
    span = (
        select(arr.c.account_id, func.max(arr.c.month).label("last_month"),
               func.min(arr.c.month).label("first_month"), func.sum(arr.c.arr).label("arr_sum"))
        .group_by(arr.c.account_id)
    ).cte("span")
    then_month = (
        select(arr.c.account_id, func.max(arr.c.month).label("then_month"))
        .join(span, span.c.account_id == arr.c.account_id)
        .where(arr.c.month <= span.c.last_month - literal(timedelta(days=365)))
        .group_by(arr.c.account_id)
    ).cte("then_month")
    a_now, a_then, a_first = arr.alias("a_now"), arr.alias("a_then"), arr.alias("a_first")
    # First usage on or after the first win. Most accounts' first usage ever already is, so take each account's
    # first day (one grouped scan of feature_usage) and join usage to the wins only for accounts that used the
    # product before winning: the same days, without joining every usage row (L: 50M) to the wins.
    first_any = (
        select(u.c.account_id, func.min(u.c.day).label("first_any"))
        .where(_before(u.c.day, closed_before))
        .group_by(u.c.account_id)
    ).cte("first_any")
    early = (
        select(won.c.account_id, won.c.first_won_at)
        .join(first_any, first_any.c.account_id == won.c.account_id)
        .where(first_any.c.first_any < won.c.first_won_at)
    ).cte("early")
    late = (
        select(u.c.account_id, func.min(u.c.day).label("first_day"))
        .join(early, early.c.account_id == u.c.account_id)
        .where(u.c.day >= early.c.first_won_at, _before(u.c.day, closed_before))
        .group_by(u.c.account_id)
    ).cte("late")
    usage = (
        select(won.c.account_id,
               case((first_any.c.first_any >= won.c.first_won_at, first_any.c.first_any),
                    else_=late.c.first_day).label("first_day"))
        .select_from(won.join(first_any, first_any.c.account_id == won.c.account_id)
                     .outerjoin(late, late.c.account_id == won.c.account_id))
    ).cte("usage")
    tickets = (
        select(cv.c.account_id, func.count().label("tickets"))
        .where(cv.c.channel == "ticket", _before(cv.c.occurred_at, closed_before))
        .group_by(cv.c.account_id)
    ).cte("tickets")

    arr_then = func.coalesce(a_then.c.arr, a_first.c.arr)
    revenue = case((span.c.arr_sum.is_not(None), span.c.arr_sum / 12.0), else_=won.c.won_amount)
    months = func.greatest(cast(ref - won.c.first_won_at, Float) / DAYS_PER_MONTH, 1.0)
    base = (
        select(
            won.c.account_id, won.c.first_won_at,
            cast(a_now.c.arr, Float).label("arr"),
            cast(func.coalesce(revenue, 0.0), Float).label("lifetime_revenue"),
            cast(case((arr_then > 0, a_now.c.arr / arr_then), else_=null()), Float).label("nrr"),
            case((a_now.c.arr.is_(None), null()), (a_now.c.arr > 0, 1), else_=0).label("retained"),
            cast(usage.c.first_day - won.c.first_won_at, Float).label("time_to_value_days"),
            (cast(func.coalesce(tickets.c.tickets, 0), Float) / months).label("tickets_per_month"),
        )
        .select_from(won)
        .outerjoin(span, span.c.account_id == won.c.account_id)
        .outerjoin(a_now, and_(a_now.c.account_id == won.c.account_id, a_now.c.month == span.c.last_month))
        .outerjoin(then_month, then_month.c.account_id == won.c.account_id)
        .outerjoin(a_then, and_(a_then.c.account_id == won.c.account_id,
                                a_then.c.month == then_month.c.then_month))
        .outerjoin(a_first, and_(a_first.c.account_id == won.c.account_id,
                                 a_first.c.month == span.c.first_month))
        .outerjoin(usage, usage.c.account_id == won.c.account_id)
        .outerjoin(tickets, tickets.c.account_id == won.c.account_id)
    ).cte("base")

    def pr(col, invert: bool = False):
        rank = cast(func.percent_rank().over(partition_by=col.is_(None), order_by=col), Float)
        rank = 1.0 - rank if invert else rank
        return case((col.is_(None), 0.5), else_=rank)

    parts = [
        (w.arr, pr(base.c.arr)), (w.lifetime_revenue, pr(base.c.lifetime_revenue)), (w.nrr, pr(base.c.nrr)),
        (w.retained, pr(base.c.retained)), (w.time_to_value, pr(base.c.time_to_value_days, invert=True)),
        (w.support_load, pr(base.c.tickets_per_month, invert=True)),
    ]
    total_w = sum(x for x, _ in parts) or 1.0
    score = sum((literal(x / total_w) * expr for x, expr in parts if x > 0), literal(0.0))
    # each component's percentile rank (0..1, higher is better), so an answer can say what ranked a customer
    ranks = [cast(expr, Float).label(f"pr_{name}") for name, (_, expr) in zip(VALUE_COMPONENTS, parts)]
    return select(*base.c, cast(score, Float).label("value_score"), *ranks)


def ranked_customers_query(
    closed_before: date | None = None,
    weights: ValueWeights | None = None,
    top_n: int | None = None,
    share: float = REVENUE_SHARE,
) -> Select:
    """Customers ranked by value with `rank`, `revenue_before` and `in_best` (the cohort flag)."""
    v = customer_values_query(closed_before, weights).subquery("v")
    order = (v.c.value_score.desc(), v.c.account_id)
    ranked = select(
        *v.c,
        func.row_number().over(order_by=order).label("rank"),
        (func.sum(v.c.lifetime_revenue).over(order_by=order, rows=(None, 0)) - v.c.lifetime_revenue)
        .label("revenue_before"),
        func.sum(v.c.lifetime_revenue).over().label("revenue_total"),
    ).subquery("ranked")
    if top_n is not None:
        flag = ranked.c.rank <= top_n
    else:
        flag = (ranked.c.revenue_total <= 0) | (ranked.c.revenue_before < share * ranked.c.revenue_total)
    return select(*ranked.c, cast(flag, Boolean).label("in_best"))


def best_ids_query(
    closed_before: date | None = None, weights: ValueWeights | None = None, top_n: int | None = None
) -> Select:
    """account_id of the best-customer cohort."""
    r = ranked_customers_query(closed_before, weights, top_n).subquery("r")
    return select(r.c.account_id).where(r.c.in_best)


def cohort_rule(top_n: int | None, share: float = REVENUE_SHARE) -> str:
    """A sentence naming the cohort rule."""
    if top_n is not None:
        return f"top {top_n} customers by value score"
    return (f"customers ranked by value score until they hold {share:.0%} of lifetime revenue "
            "(all customers when no revenue is recorded)")

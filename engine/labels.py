"""The worked population and its labels, as SQL: one row per account with a closed deal before the cut.

`best` marks the best-customer cohort (the positives of derivation); `won` marks any won deal; `retained`
is 1/0 for customers with ARR data and NULL otherwise.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, Select, case, cast, func, select, true

from icp_mcp.archive.schema import opportunities
from icp_mcp.engine.profile import ValueWeights
from icp_mcp.engine.value_sql import ranked_customers_query


def closed_deals_where(closed_before: date | None):
    """Closed (won or lost) deals with a close date, before the cut when one is given."""
    o = opportunities
    cond = o.c.stage.in_(("won", "lost")) & o.c.closed_at.is_not(None)
    return cond & (true() if closed_before is None else o.c.closed_at < closed_before)


def labels_query(
    closed_before: date | None = None, weights: ValueWeights | None = None, top_n: int | None = None
) -> Select:
    """account_id, best (0/1), won (0/1), retained (0/1/NULL) for every worked account."""
    o = opportunities
    pop = (
        select(o.c.account_id, func.max(case((o.c.stage == "won", 1), else_=0)).label("won"))
        .where(closed_deals_where(closed_before))
        .group_by(o.c.account_id)
    ).subquery("pop")
    r = ranked_customers_query(closed_before, weights, top_n).subquery("ranked")
    return (
        select(
            pop.c.account_id,
            case((r.c.in_best, 1), else_=0).label("best"),
            cast(pop.c.won, Integer).label("won"),
            r.c.retained,
        )
        .select_from(pop)
        .outerjoin(r, r.c.account_id == pop.c.account_id)
    )

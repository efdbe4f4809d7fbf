"""Customer value and the best-customer cohort (DESIGN section 4, "Value and best customers").

A customer is an account with a won opportunity. Its value score is a weighted mean of percentile ranks
(among customers) of current ARR, lifetime revenue, net revenue retention, retained-or-churned, time to
first value (shorter is better) and support load (lighter is better); a missing component counts 0.5.
The best cohort is, by default, the customers ranked by value until they hold 80% of lifetime revenue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, func, select

from icp_mcp.archive.clock import today
from icp_mcp.archive.schema import accounts, icp_account_state, icp_customer_state
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql.cache import cached
from icp_mcp.engine.sql.lookup import in_territories
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.sql.matching import members_query
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.model.profile import ValueWeights
from icp_mcp.engine.sql.value_sql import REVENUE_SHARE, VALUE_COMPONENTS, cohort_rule, ranked_customers_query

#: How each component reads in a sentence (higher percentile = better for every one of them).
COMPONENT_LABELS: dict[str, str] = {
    "arr": "current ARR", "lifetime_revenue": "lifetime revenue", "nrr": "net revenue retention",
    "retained": "retained", "time_to_value": "time to value (faster)", "support_load": "support load (lighter)",
}


def value_formula(weights: ValueWeights | None, n_customers: int) -> str:
    """One line saying what ranks a customer: the weighted percentile ranks behind the value score."""
    w = (weights or ValueWeights()).model_dump()
    total = sum(w.values()) or 1.0
    terms = " + ".join(f"{pct(w[c] / total)} {COMPONENT_LABELS[c]}" for c in VALUE_COMPONENTS if w[c] > 0)
    return (f"value score = {terms}, each as a percentile rank among the {count(n_customers)} customers "
            "(a missing component counts 50%)")


def _ranked_by(row, weights: ValueWeights | None) -> str | None:
    """The component with the largest weighted share of this customer's score, and its percentile."""
    w = (weights or ValueWeights()).model_dump()
    total = sum(w.values()) or 1.0
    parts = [(w[c] / total * float(row[f"pr_{c}"]), c) for c in VALUE_COMPONENTS
             if w[c] > 0 and row.get(f"pr_{c}") is not None]
    if not parts:
        return None
    _, best = max(parts)
    top = max(0.01, 1.0 - float(row[f"pr_{best}"]))
    return f"{COMPONENT_LABELS[best]} in the top {pct(top, 0)} (weight {pct(w[best] / total)})"

#: Attributes the cohort is counted by (`shares`): what callers without account identity see of it.
SHARE_BY: tuple[str, ...] = ("industry", "territory")
MAX_LIMIT = 10_000  # tools cap pages at 200; engine callers (cohorts) may take more. See value_sql.best_ids_query.


class ValueComponents(BaseModel):
    """The raw value components of one customer (None = no data)."""

    arr: float | None = Field(default=None, description="latest ARR snapshot")
    lifetime_revenue: float | None = None
    nrr: float | None = Field(default=None, description="ARR now / ARR 12 months ago (or at first win)")
    retained: bool | None = Field(default=None, description="False when the latest ARR is 0 (churned)")
    time_to_value_days: float | None = Field(default=None, description="first win close → first usage day")
    tickets_per_month: float | None = Field(default=None, description="ticket conversations per month")


class BestCustomer(BaseModel):
    account_id: str
    name: str
    territory: str | None = None
    industry: str | None = None
    rank: int
    value_score: float = Field(ge=0, le=1)
    first_won_at: date | None = None
    components: ValueComponents
    ranked_by: str | None = None  # the component that contributed most to the value score


class Share(BaseModel):
    """How many best customers have one attribute value, and their share of the cohort."""

    attribute: str
    value: str
    n: int | None = None
    share: float | None = None


class BestCustomers(BaseModel):
    """A page of the best-customer cohort, with the rule that chose it and its totals."""

    rule: str
    value_formula: str | None = None
    segment: str | None = None
    n_customers: int = Field(description="customers (accounts with a won deal) considered")
    n: int = Field(description="customers in the best cohort (within the segment when given)")
    n_in_view: int = Field(description="of those, accounts the caller may see (the pages list these)")
    shares: list[Share] = Field(default_factory=list, description="the cohort by industry and territory")
    cohort_revenue: float
    total_revenue: float
    revenue_share: float | None
    items: list[BestCustomer]
    offset: int = 0
    limit: int = 20
    truncated: bool = False
    next_offset: int | None = None


def best_customers(
    engine: Engine,
    *,
    definition: ICPDefinition | None = None,
    top_n: int | None = None,
    segment: str | None = None,
    limit: int = 20,
    offset: int = 0,
    closed_before: date | None = None,
    territories: Collection[str] | None = None,
) -> BestCustomers:
    """The best-customer cohort ranked by value score (page `offset`..`offset+limit`).

    The cohort, its totals and shares cover every customer; the pages list only accounts of
    `territories` (the caller's view; None = all, empty = none), so pages and `n_in_view` stay right."""
    if not 1 <= limit <= MAX_LIMIT:
        raise EngineError("limit", f"must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise EngineError("offset", "must be 0 or more")
    if top_n is not None and top_n < 1:
        raise EngineError("top_n", "must be 1 or more")
    weights = definition.value_weights if definition else None
    rule = cohort_rule(top_n)
    found = None
    if segment is not None:
        if definition is None:
            raise EngineError("segment", "needs an ICP definition with segments")
        ids = [s.id for s in definition.segments]
        names = {s.name.casefold(): s for s in definition.segments}
        found = next((s for s in definition.segments if s.id == segment), None) or names.get(segment.casefold())
        if found is None:
            raise EngineError("segment", f"unknown segment {segment!r}", allowed=ids)
        rule += f", within segment {found.id} ({found.name})"
        segment = found.id
    version = state.customer_version(engine, weights) if closed_before is None else None
    in_segment = None
    if version is not None and found is not None:  # segment members from the stored account state
        in_segment = state.account_version(engine, definition) if definition is not None else None
        if in_segment is None:
            version = None
    if version is not None:
        day = state.built_on(engine, version)
        if day is not None and day < today():  # an earlier day's state answers while today's is built
            rule += f"; ranking as stored on {day.isoformat()}"
        stored = _stored_page(engine, version, top_n, found.id if found else None, limit, offset, territories)
        items, n, n_customers, total_rev, cohort_rev, n_in_view, shares = stored
        more = n_in_view > offset + limit
        return BestCustomers(
            rule=rule, value_formula=value_formula(weights, n_customers), segment=segment,
            n_customers=n_customers, n=n, n_in_view=n_in_view, shares=shares, cohort_revenue=cohort_rev,
            total_revenue=total_rev, revenue_share=(cohort_rev / total_rev) if total_rev > 0 else None,
            items=items, offset=offset, limit=limit, truncated=more, next_offset=offset + limit if more else None,
        )
    cohort, n_customers, total_rev = _cohort(engine, weights, top_n, closed_before)
    if found is not None:
        members = _members(engine, found.conditions)
        cohort = [c for c in cohort if c.account_id in members]
    cohort_rev = sum(c.components.lifetime_revenue or 0.0 for c in cohort)
    seen = cohort if territories is None else [c for c in cohort if c.territory in set(territories)]
    page = seen[offset: offset + limit]
    more = len(seen) > offset + limit
    counts = {attr: Counter(getattr(c, attr) or "(unknown)" for c in cohort) for attr in SHARE_BY}
    return BestCustomers(
        rule=rule, value_formula=value_formula(weights, n_customers), segment=segment,
        n_customers=n_customers, n=len(cohort), n_in_view=len(seen), shares=_shares(counts, len(cohort)),
        cohort_revenue=cohort_rev,
        total_revenue=total_rev, revenue_share=(cohort_rev / total_rev) if total_rev > 0 else None,
        items=page, offset=offset, limit=limit, truncated=more, next_offset=offset + limit if more else None,
    )


def _cohort(engine: Engine, weights, top_n: int | None, closed_before: date | None
            ) -> tuple[list[BestCustomer], int, float]:
    """The whole cohort in rank order, with the number of customers and their total revenue (cached)."""

    def build() -> tuple[list[BestCustomer], int, float]:
        ranked = ranked_customers_query(closed_before, weights, top_n).subquery("ranked")
        a = accounts
        with engine.connect() as conn:
            totals = conn.execute(select(func.count(), func.coalesce(func.sum(ranked.c.lifetime_revenue), 0.0))
                                  .select_from(ranked)).one()
            rows = conn.execute(
                select(ranked, a.c.name, a.c.territory, a.c.industry)
                .join(a, a.c.account_id == ranked.c.account_id)
                .where(ranked.c.in_best).order_by(ranked.c.rank)
            ).mappings().all()
        return [_item(r, weights) for r in rows], int(totals[0] or 0), float(totals[1] or 0.0)

    key = ("best_ranking", weights.model_dump_json() if weights else "", top_n, closed_before)
    return cached(engine, key, build)


def _item(r, weights: ValueWeights | None) -> BestCustomer:
    """One ranked customer row (recomputed or stored) as a BestCustomer, with what ranked it there."""
    return BestCustomer(
        account_id=r["account_id"], name=r["name"], territory=r["territory"], industry=r["industry"],
        rank=int(r["rank"]), value_score=round(min(1.0, max(0.0, float(r["value_score"]))), 4),
        first_won_at=r["first_won_at"],
        components=ValueComponents(
            arr=r["arr"], lifetime_revenue=r["lifetime_revenue"], nrr=r["nrr"],
            retained=None if r["retained"] is None else bool(r["retained"]),
            time_to_value_days=r["time_to_value_days"], tickets_per_month=r["tickets_per_month"],
        ),
        ranked_by=_ranked_by(r, weights),
    )


def _shares(counts: dict[str, Counter], n: int) -> list[Share]:
    """The cohort counted by industry and by territory, largest first."""
    return [Share(attribute=attr, value=v, n=k, share=round(k / n, 4) if n else None)
            for attr in SHARE_BY for v, k in sorted(counts.get(attr, Counter()).items(), key=lambda kv: (-kv[1], kv[0]))]


def _stored_page(engine: Engine, version: int, top_n: int | None, segment: str | None, limit: int, offset: int,
                 territories: Collection[str] | None = None,
                 ) -> tuple[list[BestCustomer], int, int, float, float, int, list[Share]]:
    """One page of the stored ranking (only accounts of `territories`), the cohort's size, revenue and
    shares, the size within the view, and all customers' count and revenue: keyed queries on the stored
    ICP state instead of ranking every customer again."""
    c, s = icp_customer_state.c, icp_account_state.c
    cohort = [c.version == version, c.in_best == 1 if top_n is None else c.rank <= top_n]
    source = icp_customer_state
    if segment is not None:
        source = source.join(icp_account_state, and_(s.version == version, s.account_id == c.account_id))
        cohort.append(s.segments.contains(f",{segment},", autoescape=True))

    def totals() -> tuple[int, float, int, float]:
        with engine.connect() as conn:
            every = conn.execute(select(func.count(), func.coalesce(func.sum(c.lifetime_revenue), 0.0))
                                 .where(c.version == version)).one()
            chosen = conn.execute(select(func.count(), func.coalesce(func.sum(c.lifetime_revenue), 0.0))
                                  .select_from(source).where(*cohort)).one()
        return int(every[0] or 0), float(every[1] or 0.0), int(chosen[0] or 0), float(chosen[1] or 0.0)

    n_customers, total_rev, n, cohort_rev = cached(engine, ("stored_best_totals", version, top_n, segment), totals)

    def by_group() -> dict[str, Counter]:
        """The cohort counted per combination of the SHARE_BY attributes (stored with each customer: no join
        with the accounts), folded into one counter per attribute."""
        cols = [c[attr] for attr in SHARE_BY]
        out: dict[str, Counter] = {attr: Counter() for attr in SHARE_BY}
        with engine.connect() as conn:
            for *values, k in conn.execute(select(*cols, func.count()).select_from(source).where(*cohort)
                                           .group_by(*cols)):
                for attr, v in zip(SHARE_BY, values):
                    out[attr][v or "(unknown)"] += int(k)
        return out

    counts = cached(engine, ("stored_best_shares", version, top_n, segment), by_group)
    n_in_view = n if territories is None else sum(v for t, v in counts["territory"].items() if t in set(territories))
    page = (select(c.account_id, c.name, c.territory, c.industry, c.rank, c.value_score, c.first_won_at, c.arr,
                   c.lifetime_revenue, c.nrr, c.retained, c.time_to_value_days, c.tickets_per_month,
                   *[c[f"pr_{name}"] for name in VALUE_COMPONENTS])
            .select_from(source).where(*cohort, in_territories(territories, c.territory))
            .order_by(c.rank).limit(limit).offset(offset))
    with engine.connect() as conn:
        rows = conn.execute(page).mappings().all()
    # stored state = default weights
    return [_item(r, None) for r in rows], n, n_customers, total_rev, cohort_rev, n_in_view, _shares(counts, n)


def _members(engine: Engine, conditions) -> set[str]:
    """Accounts satisfying every condition (cached)."""

    def build() -> set[str]:
        with engine.connect() as conn:
            return set(conn.execute(members_query(conditions)).scalars())

    return cached(engine, ("members", tuple(c.model_dump_json() for c in conditions)), build)


__all__ = ["REVENUE_SHARE", "BestCustomer", "BestCustomers", "Share", "ValueComponents", "best_customers"]

"""Customer value and the best-customer cohort (DESIGN section 4, "Value and best customers").

A customer is an account with a won opportunity. Its value score is a weighted mean of percentile ranks
(among customers) of current ARR, lifetime revenue, net revenue retention, retained-or-churned, time to
first value (shorter is better) and support load (lighter is better); a missing component counts 0.5.
The best cohort is, by default, the customers ranked by value until they hold 80% of lifetime revenue.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from icp_mcp.engine.profile import ICPDefinition

REVENUE_SHARE = 0.80


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


class BestCustomers(BaseModel):
    """A page of the best-customer cohort, with the rule that chose it and its totals."""

    rule: str
    segment: str | None = None
    n_customers: int = Field(description="customers (accounts with a won deal) considered")
    n: int = Field(description="customers in the best cohort")
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
) -> BestCustomers:
    """The best-customer cohort ranked by value score (page `offset`..`offset+limit`)."""
    raise NotImplementedError

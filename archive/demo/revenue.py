"""Customers after the sale: monthly ARR with expansion and churn, feature adoption and usage rows.

A customer is an account with a won deal. ARR starts at the first win, steps up with every later win,
grows by a per-customer monthly rate (faster in the planted segments) and drops to 0 at a renewal
anniversary when the customer churns (rarer in segments and for SSO adopters, frequent in government).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from icp_mcp.archive.demo import plan, vocab
from icp_mcp.archive.demo.accounts import Accounts, account_ids
from icp_mcp.archive.demo.columns import dates, offsets, take, within
from icp_mcp.archive.demo.deals import Deals

NEVER = np.iinfo(np.int64).max // 4
USAGE_ROWS_PER_ACCOUNT = 50


def month_of(days: np.ndarray | int) -> np.ndarray:
    """Months since 1970-01 of days since 1970-01-01."""
    return np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def first_day(months: np.ndarray | int) -> np.ndarray:
    """First day (days since 1970-01-01) of months since 1970-01."""
    return np.asarray(months, dtype="int64").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


@dataclass
class Revenue:
    """Per-account customer facts plus the snapshot rows."""

    customer: np.ndarray
    first_win_day: np.ndarray  # -1 for non-customers
    churn_day: np.ndarray  # NEVER when retained
    sso: np.ndarray
    current_arr: np.ndarray
    best: np.ndarray  # account numbers of the planted best customers, best first
    snap_account: np.ndarray
    snap_month: np.ndarray
    snap_arr: np.ndarray

    @property
    def retained(self) -> np.ndarray:
        return self.customer & (self.churn_day == NEVER)


def generate_revenue(rng: np.random.Generator, acc: Accounts, deals: Deals, as_of_day: int) -> Revenue:
    """ARR snapshots from first win to as_of, churn, SSO adoption and the planted best customers."""
    wins = np.flatnonzero(deals.closed_won)
    win_acc, win_day, win_amount = deals.account[wins], deals.closed[wins], deals.amount[wins]
    first = np.full(acc.n, NEVER)
    np.minimum.at(first, win_acc, win_day)
    last = np.full(acc.n, -1)
    np.maximum.at(last, win_acc, win_day)
    customer = first != NEVER
    first_win_day = np.where(customer, first, -1)

    segment = acc.saas_mid | acc.snowflake
    adoption = np.where(acc.saas_mid, plan.ADOPTION_RATES["segment"], plan.ADOPTION_RATES["other"])
    sso = customer & (rng.random(acc.n) < adoption)
    yearly = np.where(segment, plan.YEARLY_CHURN["segment"], plan.YEARLY_CHURN["other"])
    yearly = np.where(acc.government, plan.YEARLY_CHURN["government"], yearly)
    yearly = np.where(sso, yearly * plan.SSO_CHURN_MULTIPLIER, yearly)
    as_of_month = int(month_of(as_of_day))
    first_month = np.where(customer, month_of(np.where(customer, first, 0)), 0)
    last_month = np.where(customer, month_of(np.maximum(last, 0)), 0)
    years = np.maximum(rng.geometric(yearly), (last_month - first_month) // 12 + 1)
    churn_month = first_month + 12 * years
    churned = customer & (churn_month <= as_of_month)
    churn_day = np.where(churned, first_day(churn_month), NEVER)

    cust = np.flatnonzero(customer)
    counts = as_of_month - first_month[cust] + 1
    snap_account = np.repeat(cust, counts)
    t = within(counts)
    snap_month = first_month[snap_account] + t
    start = offsets(counts)
    slot = np.zeros(acc.n, np.int64)
    slot[cust] = start
    contrib = np.bincount(slot[win_acc] + (month_of(win_day) - first_month[win_acc]), weights=win_amount,
                          minlength=len(snap_account))
    cum = np.cumsum(contrib)
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    contracted = cum - np.repeat(before, counts)
    mean = np.where(segment, plan.MONTHLY_GROWTH["segment"][0], plan.MONTHLY_GROWTH["other"][0])
    growth = np.clip(rng.normal(mean, plan.MONTHLY_GROWTH["other"][1]), -0.01, 0.04)
    arr = np.round(contracted * (1 + growth[snap_account]) ** t, 2)
    arr[snap_month >= churn_month[snap_account]] = 0.0

    current = np.zeros(acc.n)
    current[cust] = arr[start + counts - 1]
    retained = np.flatnonzero(customer & ~churned)
    n_best = min(len(retained), max(plan.BEST_CUSTOMER_MIN, round(plan.BEST_CUSTOMER_SHARE * len(cust))))
    best = retained[np.argsort(-current[retained], kind="stable")[:n_best]]
    return Revenue(
        customer=customer, first_win_day=first_win_day, churn_day=churn_day, sso=sso, current_arr=current,
        best=best, snap_account=snap_account, snap_month=snap_month, snap_arr=arr,
    )


def arr_snapshots_table(rev: Revenue) -> pa.Table:
    """The `arr_snapshots` table: one row per customer and month (month = its first day)."""
    return pa.table({
        "account_id": account_ids(rev.snap_account),
        "month": dates(first_day(rev.snap_month)),
        "arr": pa.array(rev.snap_arr, pa.float64()),
    })


def feature_usage_tables(
    rng: np.random.Generator, acc: Accounts, rev: Revenue, as_of_day: int, chunk_rows: int = 4_000_000
) -> Iterator[pa.Table]:
    """The `feature_usage` table in chunks: for each adopted feature, one row every few days while active."""
    cust = np.flatnonzero(rev.customer)
    features = vocab.FEATURES
    rates = np.array([0.0 if f == plan.ADOPTION_FEATURE else vocab.FEATURE_BASE_ADOPTION[f] for f in features])
    adopted = rng.random((len(cust), len(features))) < rates
    adopted[:, features.index(plan.ADOPTION_FEATURE)] = rev.sso[cust]
    pair_cust, pair_feature = np.nonzero(adopted)
    pair_acc = cust[pair_cust]
    lag = rng.integers(3, 41, len(pair_acc)) + np.where(pair_feature == features.index("dashboards"), 0,
                                                        rng.integers(0, 121, len(pair_acc)))
    start = rev.first_win_day[pair_acc] + lag
    end = np.minimum(as_of_day, rev.churn_day[pair_acc] - 1)
    span = np.maximum(end - start + 1, 0)
    # One row every `stride` days (fractional, >= 1) so the table holds about USAGE_ROWS_PER_ACCOUNT per account.
    stride = max(1.0, float(span.sum()) / max(1, USAGE_ROWS_PER_ACCOUNT * acc.n))
    rows = np.where(span > 0, np.floor((span - 1) / stride).astype(np.int64) + 1, 0)
    seats = np.maximum(2, np.round(acc.employees[pair_acc] ** 0.6 * rng.uniform(0.2, 0.8, len(pair_acc))))
    intensity = rng.lognormal(0, 0.5, len(pair_acc)) * np.array([2, 40, 8, 6, 1, 3])[pair_feature]

    cum = np.cumsum(rows)
    cuts = np.searchsorted(cum, np.arange(chunk_rows, int(cum[-1]) if len(cum) else 0, chunk_rows)) + 1
    edges = np.unique(np.r_[0, cuts, len(rows)])
    for lo, hi in itertools.pairwise(edges):
        part = slice(lo, hi)
        k = rows[part]
        idx = np.repeat(np.arange(lo, hi), k)
        day = start[idx] + np.floor(within(k) * stride).astype(np.int64)
        users = np.maximum(1, np.round(seats[idx] * rng.uniform(0.4, 1.0, len(idx)))).astype(np.int64)
        events = rng.poisson(users * intensity[idx]) + 1
        yield pa.table({
            "account_id": account_ids(pair_acc[idx]),
            "feature": take(features, pair_feature[idx]),
            "day": dates(day),
            "events": pa.array(events, pa.int32()),
            "active_users": pa.array(users, pa.int32()),
        })

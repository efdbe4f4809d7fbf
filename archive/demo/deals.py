"""Opportunities: when they open and close, whether they are won (the planted win model), amount, reason.

The win probability of a deal is decided here and nowhere else: segments raise it, disqualifiers sink it,
a funding signal in the 120 days before the deal multiplies it, and with drift the last 90 days differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from icp_mcp.archive.demo import plan, vocab
from icp_mcp.archive.demo.accounts import INDUSTRY_NAMES, Accounts, account_ids
from icp_mcp.archive.demo.columns import choice, dates, ids, take, where

WORKED_SHARE = 0.75
EXTRA_DEALS_MEAN = 3.0


@dataclass
class Deals:
    """Per-opportunity arrays, ordered by account (id `O{j:08d}`)."""

    m: int
    account: np.ndarray
    created: np.ndarray
    closed: np.ndarray  # planned close day; the deal is open when it lies after as_of
    is_open: np.ndarray
    won: np.ndarray  # outcome (for open deals: the outcome they are heading for)
    p: np.ndarray
    amount: np.ndarray
    triggered: np.ndarray
    signal_account: np.ndarray  # the planted funding signals (one per triggered deal)
    signal_day: np.ndarray
    lost_reason: np.ndarray
    source: np.ndarray
    product: np.ndarray

    @property
    def closed_won(self) -> np.ndarray:
        return self.won & ~self.is_open


def generate_deals(rng: np.random.Generator, acc: Accounts, as_of_day: int, drift: bool) -> Deals:
    """Draw opportunities for the worked accounts and decide their outcomes."""
    worked = rng.random(acc.n) < WORKED_SHARE
    per_account = np.where(worked, 1 + rng.poisson(EXTRA_DEALS_MEAN, acc.n), 0)
    account = np.repeat(np.arange(acc.n), per_account)
    m = len(account)
    start = np.maximum(acc.created_day[account], as_of_day - plan.HISTORY_DAYS)
    created = start + np.floor(rng.random(m) * (as_of_day - start + 1)).astype(np.int64)
    gov = acc.government[account]
    cycle = np.where(gov, rng.integers(60, 241, m), rng.integers(20, 151, m))
    closed = created + cycle
    is_open = closed > as_of_day

    planted = rng.random(m) < plan.TRIGGER_SHARE
    signal_account = account[planted]
    signal_day = created[planted] - rng.integers(5, 116, int(planted.sum()))
    triggered = _has_signal_before(account, created, signal_account, signal_day, plan.TRIGGER_WINDOW_DAYS)

    p = _win_probability(acc, account, closed, triggered, as_of_day, drift)
    won = rng.random(m) < p

    segment = (acc.saas_mid | acc.snowflake)[account]
    amount = 12_000 * (acc.employees[account] / 200) ** 0.45 * rng.lognormal(0, 0.45, m)
    amount = np.round(np.clip(amount * np.where(segment, plan.SEGMENT_AMOUNT_MULTIPLIER, 1.0), 2_000, 2_000_000), -2)
    product = np.searchsorted([15_000, 60_000], amount).astype(np.int32)
    reason = choice(rng, (0.22, 0.2, 0.18, 0.12, 0.1, 0.1, 0.05, 0.03), m)
    preseed_reason = np.array([vocab.LOST_REASONS.index(x) for x in ("Budget", "Price", "No decision")])
    gov_reason = np.array([vocab.LOST_REASONS.index(x) for x in ("Security review", "Timing", "No decision")])
    reason = np.where(acc.preseed[account], preseed_reason[rng.integers(0, 3, m)], reason)
    reason = np.where(gov, gov_reason[rng.integers(0, 3, m)], reason)
    return Deals(
        m=m, account=account, created=created, closed=closed, is_open=is_open, won=won, p=p, amount=amount,
        triggered=triggered, signal_account=signal_account, signal_day=signal_day, lost_reason=reason,
        source=choice(rng, (0.35, 0.3, 0.12, 0.1, 0.13), m), product=product,
    )


def _has_signal_before(
    account: np.ndarray, day: np.ndarray, sig_account: np.ndarray, sig_day: np.ndarray, window: int
) -> np.ndarray:
    """True where the same account has a signal in [day - window, day)."""
    base = int(min(day.min(initial=0), sig_day.min(initial=0))) - window - 1
    span = np.int64(1 << 20)
    keys = np.sort(sig_account.astype(np.int64) * span + (sig_day - base))
    me = account.astype(np.int64) * span + (day - base)
    return np.searchsorted(keys, me, side="left") > np.searchsorted(keys, me - window, side="left")


def _win_probability(
    acc: Accounts, account: np.ndarray, closed: np.ndarray, triggered: np.ndarray, as_of_day: int, drift: bool
) -> np.ndarray:
    saas, snow = acc.saas_mid[account], acc.snowflake[account]
    rates = {s.id: s.win_rate for s in plan.SEGMENTS}
    p = np.full(len(account), plan.BASE_WIN_RATE)
    p[snow] = rates["seg_snowflake"]
    p[saas] = rates["seg_saas_mid"]
    p[saas & snow] = plan.BOTH_SEGMENTS_WIN_RATE
    if drift:
        recent = closed > as_of_day - plan.DRIFT_WINDOW_DAYS
        emerging = np.isin(acc.industry[account], [INDUSTRY_NAMES.index(x) for x in plan.DRIFT_EMERGING])
        p[recent & saas] = plan.DRIFT_WEAKENED_WIN_RATE
        p[recent & emerging] = plan.DRIFT_EMERGING_WIN_RATE
    p = np.where(triggered, np.minimum(p * plan.TRIGGER_MULTIPLIER, plan.WIN_RATE_CAP), p)
    rates_dq = {d.id: d.win_rate for d in plan.DISQUALIFIERS}
    p[acc.preseed[account]] = rates_dq["dq_preseed"]
    p[acc.government[account]] = rates_dq["dq_government"]
    return p


def opportunity_ids(numbers: np.ndarray) -> pa.Array:
    return ids("O", numbers, 8)


def opportunities_table(deals: Deals, as_of_day: int) -> pa.Table:
    """The `opportunities` table."""
    stage = np.where(deals.is_open, 0, np.where(deals.won, 1, 2))
    lost = ~deals.is_open & ~deals.won
    return pa.table({
        "opportunity_id": opportunity_ids(np.arange(deals.m)),
        "account_id": account_ids(deals.account),
        "created_at": dates(deals.created),
        "closed_at": where(~deals.is_open, dates(np.minimum(deals.closed, as_of_day))),
        "stage": take(("open", "won", "lost"), stage),
        "amount": pa.array(deals.amount, pa.float64()),
        "lost_reason": where(lost, take(vocab.LOST_REASONS, deals.lost_reason)),
        "source": take(vocab.SOURCES, deals.source),
        "product": take(vocab.PRODUCTS, deals.product),
    })

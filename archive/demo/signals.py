"""Account signals: the planted funding triggers plus background news (hires, hiring spikes, installs...).

Background funding signals go only to accounts without deals, so the only funding signals near a deal
are the planted triggers and the trigger's lift stays clean.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from icp_mcp.archive.demo import plan, vocab
from icp_mcp.archive.demo.accounts import TECH_NAMES, Accounts, account_ids
from icp_mcp.archive.demo.columns import choice, ids, join, num, offsets, take, timestamps
from icp_mcp.archive.demo.deals import Deals
from icp_mcp.archive.demo.phrases import EXEC_TITLES, VC_FIRMS

KINDS: tuple[str, ...] = ("funding", "exec_hire", "hiring_spike", "tech_install", "layoff", "acquisition")
BACKGROUND_MEAN = 0.9
ROUNDS: tuple[str, ...] = ("Seed", "Series A", "Series B", "Series C", "Series D", "growth")


def signals_table(rng: np.random.Generator, acc: Accounts, deals: Deals, as_of_day: int) -> pa.Table:
    """The `signals` table: planted funding triggers first, then background signals."""
    count = rng.poisson(BACKGROUND_MEAN, acc.n)
    bg_account = np.repeat(np.arange(acc.n), count)
    has_deals = np.zeros(acc.n, bool)
    has_deals[deals.account] = True
    bg_kind = choice(rng, (0.05, 0.28, 0.27, 0.25, 0.1, 0.05), len(bg_account))
    bg_kind[(bg_kind == 0) & has_deals[bg_account]] = KINDS.index("exec_hire")
    lo = np.maximum(acc.created_day[bg_account], as_of_day - plan.HISTORY_DAYS)
    bg_day = lo + np.floor(rng.random(len(bg_account)) * (as_of_day - lo + 1)).astype(np.int64)

    account = np.concatenate([deals.signal_account, bg_account])
    kind = np.concatenate([np.zeros(len(deals.signal_account), np.int32), bg_kind])
    day = np.concatenate([deals.signal_day, bg_day])
    n = len(account)
    seconds = day * 86400 + rng.integers(7 * 3600, 20 * 3600, n)
    order = np.lexsort((seconds, account))
    account, kind, seconds = account[order], kind[order], seconds[order]
    detail = _details(rng, acc, account, kind)
    return pa.table({
        "signal_id": ids("S", np.arange(n), 8),
        "account_id": account_ids(account),
        "occurred_at": timestamps(seconds),
        "kind": take(KINDS, kind),
        "detail": detail,
    })


def _details(rng: np.random.Generator, acc: Accounts, account: np.ndarray, kind: np.ndarray) -> pa.Array:
    n = len(account)
    funding = join("Raised $", num(rng.integers(2, 120, n)), "M in a ", take(ROUNDS, rng.integers(0, 6, n)),
                   " round led by ", take(VC_FIRMS, rng.integers(0, len(VC_FIRMS), n)), ".")
    person = join(take(vocab.FIRST_NAMES, rng.integers(0, len(vocab.FIRST_NAMES), n)),
                  take(vocab.LAST_NAMES, rng.integers(0, len(vocab.LAST_NAMES), n)), sep=" ")
    exec_hire = join("Hired ", person, " as ", take(EXEC_TITLES, rng.integers(0, len(EXEC_TITLES), n)), ".")
    spike = join("Open roles up ", num(rng.integers(25, 300, n)), "% in 90 days (",
                 num(rng.integers(10, 400, n)), " postings).")
    tech_counts = np.bincount(acc.tech_account, minlength=acc.n)
    tech_start = offsets(tech_counts)
    pick = tech_start[account] + np.floor(rng.random(n) * np.maximum(tech_counts[account], 1)).astype(np.int64)
    tech = np.where(tech_counts[account] > 0, acc.tech_code[np.minimum(pick, len(acc.tech_code) - 1)],
                    rng.integers(0, len(TECH_NAMES), n))
    install = join("Started using ", take(TECH_NAMES, tech), " (seen in job postings and DNS records).")
    layoff = join("Announced layoffs affecting about ", num(rng.integers(3, 30, n)), "% of staff.")
    target = join(take(vocab.NAME_ROOTS_A, rng.integers(0, len(vocab.NAME_ROOTS_A), n)),
                  pc.utf8_lower(take(vocab.NAME_ROOTS_B, rng.integers(0, len(vocab.NAME_ROOTS_B), n))))
    acquisition = join("Acquired ", target, ", a ", num(rng.integers(10, 300, n)), "-person competitor.")
    out = funding
    for code, text in enumerate((funding, exec_hire, spike, install, layoff, acquisition)):
        out = pc.if_else(pa.array(kind == code), text, out)
    return out

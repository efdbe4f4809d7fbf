"""Optimal binning of one attribute's values on aggregated counts, as credit scorecards do it.

The method is that of `optbinning` (Navas-Palencia, "Optimal binning: mathematical programming
formulation", 2020): order the values (numeric bands by value; categories by event rate, shrunk toward
the base so that rare ones sort near the middle), pre-bin them into groups of at least a minimum size, then
choose the contiguous partition that maximises the information value (IV) subject to a minimum bin size
and a significant difference between consecutive bins (two-proportion z-test, optbinning's `max_pvalue`
with the "consecutive" policy) of at least the minimum effect of a criterion (5 points, its
`min_event_rate_diff` in log-odds). optbinning solves that program with a CP/MIP solver over raw rows; here it
is solved exactly by dynamic programming over the pre-bins, from counts the SQL already grouped (the
library itself pulls in ortools, cvxpy, scikit-learn and pandas for the same answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

MIN_BIN_SHARE = 0.05   # a bin holds at least 5% of the attribute's accounts (optbinning's min_prebin_size)
MIN_BIN_N = 20         # ... and at least this many
MAX_PVALUE = 0.05      # consecutive bins must differ at this level
MIN_LOGODDS_DIFF = 5 * math.log(2) / 20  # ... and by at least 5 scorecard points (optbinning's min_event_rate_diff)
SORT_SHRINK = 20.0     # categories are ordered by (positives + k·base) / (n + k)


@dataclass(frozen=True)
class Item:
    """One value (or band) of an attribute with its counts; `key` is whatever the caller needs back."""

    key: object
    n: int
    positives: int


@dataclass(frozen=True)
class Bin:
    """Consecutive items merged into one bin."""

    items: tuple[Item, ...]

    @property
    def n(self) -> int:
        return sum(i.n for i in self.items)

    @property
    def positives(self) -> int:
        return sum(i.positives for i in self.items)


def order_categories(items: Sequence[Item], base: float) -> list[Item]:
    """Categories by shrunk event rate, lowest first (ties by size, then key, for a stable order)."""
    return sorted(items, key=lambda i: ((i.positives + SORT_SHRINK * base) / (i.n + SORT_SHRINK), -i.n, str(i.key)))


def _prebin(items: Sequence[Item], min_size: int) -> list[tuple[Item, ...]]:
    """Consecutive items grouped greedily until each group holds `min_size` accounts (a small tail joins the
    last group)."""
    groups: list[list[Item]] = []
    run: list[Item] = []
    for item in items:
        run.append(item)
        if sum(i.n for i in run) >= min_size:
            groups.append(run)
            run = []
    if run:
        if groups:
            groups[-1].extend(run)
        else:
            groups.append(run)
    return [tuple(g) for g in groups]


def _logit(p: int, n: int) -> float:
    return math.log((p + 0.5) / (n - p + 0.5))


def _differ(n1: int, p1: int, n2: int, p2: int, alpha: float, min_diff: float = MIN_LOGODDS_DIFF) -> bool:
    """Do the rates of two bins differ at level `alpha` (two-proportion z-test) and by at least `min_diff`
    in log-odds (smoothed by 0.5)?"""
    if not n1 or not n2:
        return False
    if abs(_logit(p1, n1) - _logit(p2, n2)) < min_diff:
        return False
    pooled = (p1 + p2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return False
    z = abs(p1 / n1 - p2 / n2) / math.sqrt(var)
    return 2 * (1 - NormalDist().cdf(z)) < alpha


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution: exact for 1 and 2 degrees of freedom, Wilson–Hilferty
    (within ~1e-3) above."""
    if df <= 0 or x <= 0:
        return 1.0
    if df == 1:
        return 2.0 * (1.0 - NormalDist().cdf(math.sqrt(x)))
    if df == 2:
        return math.exp(-x / 2.0)
    k = 2.0 / (9.0 * df)
    z = ((x / df) ** (1.0 / 3.0) - (1.0 - k)) / math.sqrt(k)
    return 1.0 - NormalDist().cdf(z)


def heterogeneous(items: Sequence[Item], alpha: float, min_n: int = 5) -> bool:
    """Do the values' rates differ at all (chi-square test of homogeneity, values under `min_n` pooled)?

    The gate before binning: grouping categories sorted by rate picks the extremes of pure noise, so a bin is
    only tested when its attribute as a whole carries signal (as CHAID tests before it merges)."""
    groups = [(i.n, i.positives) for i in items if i.n >= min_n]
    rest_n = sum(i.n for i in items if i.n < min_n)
    if rest_n >= min_n:
        groups.append((rest_n, sum(i.positives for i in items if i.n < min_n)))
    n = sum(g[0] for g in groups)
    p = sum(g[1] for g in groups)
    if len(groups) < 2 or p == 0 or p == n:
        return False
    rate = p / n
    x = sum((gp - gn * rate) ** 2 / (gn * rate * (1 - rate)) for gn, gp in groups)
    return chi2_sf(x, len(groups) - 1) < alpha


def optimal_bins(items: Sequence[Item], total_positives: int, total_negatives: int, *,
                 min_share: float = MIN_BIN_SHARE, min_n: int = MIN_BIN_N, max_pvalue: float = MAX_PVALUE
                 ) -> list[Bin]:
    """The IV-maximal partition of the ordered `items` into contiguous bins (each at least the minimum size,
    consecutive bins significantly different). `total_*` are the attribute's totals over all its values."""

    items = [i for i in items if i.n > 0]
    if not items:
        return []
    size = sum(i.n for i in items)
    min_size = max(min_n, int(math.ceil(min_share * size)))
    pre = _prebin(items, min_size)
    m = len(pre)
    n_pre = [sum(i.n for i in g) for g in pre]
    p_pre = [sum(i.positives for i in g) for g in pre]
    cum_n = [0]
    cum_p = [0]
    for n, p in zip(n_pre, p_pre, strict=True):
        cum_n.append(cum_n[-1] + n)
        cum_p.append(cum_p[-1] + p)
    pos_t, neg_t = max(total_positives, 1), max(total_negatives, 1)

    def counts(i: int, j: int) -> tuple[int, int]:
        return cum_n[j] - cum_n[i], cum_p[j] - cum_p[i]

    def iv(i: int, j: int) -> float:
        n, p = counts(i, j)
        dp, dn = (p + 0.5) / pos_t, (n - p + 0.5) / neg_t
        return (dp - dn) * math.log(dp / dn)

    # best[(i, j)]: the best IV of items[0:j] whose last bin is items[i:j]; prev[(i, j)] its previous start.
    best: dict[tuple[int, int], float] = {}
    prev: dict[tuple[int, int], int | None] = {}
    for j in range(1, m + 1):
        for i in range(j):
            n_ij, p_ij = counts(i, j)
            if n_ij < min_size and not (i == 0 and j == m):
                continue
            if i == 0:
                best[(0, j)], prev[(0, j)] = iv(0, j), None
                continue
            choice, value = None, -math.inf
            for k in range(i):
                if (k, i) not in best:
                    continue
                n_ki, p_ki = counts(k, i)
                if not _differ(n_ki, p_ki, n_ij, p_ij, max_pvalue):
                    continue
                if best[(k, i)] > value:
                    choice, value = k, best[(k, i)]
            if choice is not None:
                best[(i, j)], prev[(i, j)] = value + iv(i, j), choice
    ends = [(v, i) for (i, j), v in best.items() if j == m]
    _, start = max(ends)
    cuts = [m]
    end: int = m
    cur: int | None = start
    while cur is not None:
        cuts.append(cur)
        cur, end = prev[(cur, end)], cur
    cuts.reverse()
    return [Bin(tuple(x for g in pre[a:b] for x in g)) for a, b in zip(cuts, cuts[1:], strict=False)]

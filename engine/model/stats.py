"""Small statistics on aggregated counts (DESIGN section 10): Wilson, WoE, points, PSI, AUC, Brier, Platt.

Every function takes counts or short arrays of group summaries, never raw rows: the SQL does the grouping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from icp_mcp.engine.model.profile import Evidence

Z95 = 1.959963984540054
SHRINK_K = 20.0
POINTS_PER_DOUBLING = 20.0


def z_for(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level (0.95 → 1.96)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(positives: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of `positives / n` (95% by default); (0, 1) when n = 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = positives / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def woe(pos_v: int, neg_v: int, positives: int, negatives: int, k: int, shrink: float = SHRINK_K) -> float:
    """Weight of evidence of a value, Laplace-smoothed and shrunk toward zero by n/(n+shrink)."""
    k = max(k, 1)
    raw = math.log(((pos_v + 0.5) / (positives + 0.5 * k)) / ((neg_v + 0.5) / (negatives + 0.5 * k)))
    n_v = pos_v + neg_v
    return raw * n_v / (n_v + shrink)


def points(woe_value: float) -> int:
    """Scorecard points: 20 points double the odds."""
    return int(round(POINTS_PER_DOUBLING * woe_value / math.log(2)))


def psi_terms(expected: Sequence[float], actual: Sequence[float], floor: float = 0.001) -> list[float]:
    """Each bin's term of the population stability index (shares floored at `floor`); `psi` is their sum."""
    es, as_ = float(sum(expected)) or 1.0, float(sum(actual)) or 1.0
    terms = []
    for e, a in zip(expected, actual, strict=True):
        e_i, a_i = max(e / es, floor), max(a / as_, floor)
        terms.append((a_i - e_i) * math.log(a_i / e_i))
    return terms


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = 0.001) -> float:
    """Population stability index over matching bins of shares (or counts, normalised here)."""
    total = 0.0
    for term in psi_terms(expected, actual, floor):
        total += term
    return total


def auc_grouped(groups: Sequence[tuple[float, int, int]]) -> float | None:
    """AUC (Mann–Whitney, ties count half) from (score, n, positives) groups; None without both classes."""
    ordered = sorted(groups, key=lambda g: g[0])
    pos_total = sum(g[2] for g in ordered)
    neg_total = sum(g[1] - g[2] for g in ordered)
    if pos_total == 0 or neg_total == 0:
        return None
    neg_below = 0.0
    acc = 0.0
    for _, n, pos in ordered:
        neg = n - pos
        acc += pos * (neg_below + 0.5 * neg)
        neg_below += neg
    return acc / (pos_total * neg_total)


def auc_interval(auc: float, positives: int, negatives: int, z: float = Z95) -> tuple[float, float]:
    """Hanley–McNeil 95% interval of an AUC."""
    if positives <= 0 or negatives <= 0:
        return (0.0, 1.0)
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    se = math.sqrt(max(var, 0.0))
    return (max(0.0, auc - z * se), min(1.0, auc + z * se))


def brier_grouped(groups: Sequence[tuple[float, int, int]]) -> float | None:
    """Brier score from (probability, n, positives) groups."""
    total = sum(g[1] for g in groups)
    if total == 0:
        return None
    s = sum(pos * (1 - p) ** 2 + (n - pos) * p * p for p, n, pos in groups)
    return s / total


def platt_grouped(groups: Sequence[tuple[float, int, int]], iterations: int = 50) -> tuple[float, float]:
    """Fit win = sigmoid(a·x + b) by Newton's method on (x, n, positives) groups, with a weak prior.

    Platt's target smoothing ((pos+1)/(n+2) overall) keeps the fit finite on separable or tiny data.
    """
    n_all = sum(g[1] for g in groups)
    p_all = sum(g[2] for g in groups)
    if n_all == 0:
        return (0.0, 0.0)
    base = (p_all + 1) / (n_all + 2)
    a, b = 0.0, math.log(base / (1 - base))
    ridge = 1e-3
    for _ in range(iterations):
        ga = gb = haa = hab = hbb = 0.0
        for x, n, pos in groups:
            z = max(-50.0, min(50.0, a * x + b))
            p = 1.0 / (1.0 + math.exp(-z))
            r = pos - n * p
            w = n * p * (1 - p)
            ga += r * x
            gb += r
            haa += w * x * x
            hab += w * x
            hbb += w
        ga -= ridge * a
        haa += ridge
        hbb += 1e-9
        det = haa * hbb - hab * hab
        if det <= 1e-12:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a + da, b + db
        if abs(da) < 1e-9 and abs(db) < 1e-9:
            break
    return (a, b)


def quantile_cut(histogram: Sequence[tuple[float, int]], top_share: float) -> float:
    """The smallest value v such that the share of items with value >= v is at most... about `top_share`.

    `histogram` is (value, count) pairs; returns the value at which the cumulative share from the top first
    reaches `top_share` (ties stay together, so a tier may hold more than its share).
    """
    ordered = sorted(histogram, key=lambda h: -h[0])
    total = sum(c for _, c in ordered)
    if total == 0:
        return math.inf
    acc = 0
    for value, count in ordered:
        acc += count
        if acc / total >= top_share:
            return value
    return ordered[-1][0]


def evidence(pos: int, n: int, base: float | None, w: float | None = None) -> Evidence:
    """Evidence with the 95% Wilson interval and lift against `base`."""
    rate = pos / n if n else 0.0
    lo, hi = wilson(pos, n)
    lift = (rate / base) if base else None
    return Evidence(n=n, positives=pos, rate=round(rate, 4), interval=(round(lo, 4), round(hi, 4)),
                    lift=None if lift is None else round(lift, 3), woe=None if w is None else round(w, 4))


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """z statistic of p1 − p2 under a pooled null (None when either side is empty or nothing varies)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return None
    return (x1 / n1 - x2 / n2) / math.sqrt(var)

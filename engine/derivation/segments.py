"""Segment search: a shallow, greedy rule search for up to 3 conjunctions of two conditions.

Candidates are the attribute values with the most positives (kept as criteria or not: a conjunction can
win where neither part does alone). One SQL self-join of
their memberships counts every pair; a pair qualifies when its adjusted interval clears the base rate and
it does better than either part. The best pair (by excess positives: support × (rate − rate of the better
part alone), i.e. lift over the parts weighted by support) is widened with sibling values
of single-valued attributes while that improves lift × support, then the next pair not reusing a value.
A segment's bonus points are the interaction its criteria do not already pay for.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import BigInteger, Engine, case, func, literal, select

from icp_mcp.archive.schema import accounts
from icp_mcp.engine.model import stats
from icp_mcp.engine.model.catalogue import is_multi_valued, is_numeric, kind_of
from icp_mcp.engine.sql.labels import labels_query
from icp_mcp.engine.sql.matching import members_query
from icp_mcp.engine.model.profile import Condition, Evidence, ICPDefinition, Range, Segment, ValueWeights
from icp_mcp.engine.sql.points import condition_test, flagged_accounts
from icp_mcp.engine.sql.points import points_query

POOL = 60
MIN_SEGMENT_N = 20
FAMILY_ALPHA = 0.05
MAX_SEGMENTS = 3
ADDS_VALUE = 1.25  # each condition must lift the rate within the other by at least 25%
WIDEN_TOP = 12  # widen this many of the best pairs before choosing one
WIDEN_RATE = 0.8  # a sibling value joins a segment only if its own rate there is at least 80% of the segment's


def _short(cond: Condition) -> str:
    if cond.range is not None:
        unit = {"employees": " employees", "annual_revenue": " revenue", "founded_year": " founded"}
        return f"{cond.range.label()}{unit.get(cond.attribute, '')}"
    if cond.attribute == "technology":
        return f"uses {cond.value}"
    return " or ".join(cond.accepted())


def _single_valued(attribute: str) -> bool:
    return kind_of(attribute) is not None and not is_multi_valued(attribute)


def search_segments(engine: Engine, counts: list, base: float, totals_best: int, totals_n: int, z_keep: float,
                    *, closed_before: date | None, weights: ValueWeights, top_n: int | None,
                    evidence, positives: str = "retained") -> list[Segment]:
    """Up to 3 segments from the value counts (`counts` are derive.ValueCounts with band ranges set)."""
    if not base or totals_best == 0:
        return []
    # Marginal lift is not required: a conjunction can win where neither part does on its own.
    pool = [c for c in counts if c.attribute != "trigger" and c.n >= MIN_SEGMENT_N and c.value is not None]
    pool.sort(key=lambda c: (-c.best, c.attribute, str(c.value)))
    pool = pool[:POOL]
    if len(pool) < 2:
        return []
    conds = {f"p{i}": Condition(**c.condition()) for i, c in enumerate(pool)}
    info = {f"p{i}": c for i, c in enumerate(pool)}
    pair = _pair_counts(engine, conds, labels_query(closed_before, weights, top_n, positives), closed_before)
    z_keep = max(z_keep, stats.z_for(1 - FAMILY_ALPHA / max(len(pair), 1)))  # many pairs are tested too

    def counts_of(left: list[str], right: list[str]) -> tuple[int, int]:
        n = p = 0
        for a in left:
            for b in right:
                x = pair.get(frozenset((a, b)), (0, 0))
                n, p = n + x[0], p + x[1]
        return n, p

    def marginal(keys: list[str]) -> tuple[int, int]:
        return sum(info[k].n for k in keys), sum(info[k].best for k in keys)

    def value_of(left: list[str], right: list[str]) -> float | None:
        n, p = counts_of(left, right)
        if n < MIN_SEGMENT_N or stats.wilson(p, n, z_keep)[0] <= base:
            return None
        best_part = 0.0
        for side in (left, right):
            n_side, p_side = marginal(side)
            best_part = max(best_part, p_side / n_side)
        if p / n < best_part:
            return None
        for other in (left, right):
            n_o, p_o = marginal(other)
            if n_o <= n:
                return None  # the pair is just `other`: this condition restricts nothing
            outside = (p_o - p) / (n_o - n)
            if p / n < ADDS_VALUE * outside:
                return None  # the other condition adds nothing within this one
        return p - n * best_part  # positives beyond what the better part alone would give

    def siblings(keys: list[str]) -> list[str]:
        attr = info[keys[0]].attribute
        if not _single_valued(attr):
            return []
        out = [k for k, c in info.items() if c.attribute == attr and k not in keys]
        if is_numeric(attr):
            lo = min(info[k].range.min if info[k].range.min is not None else -1e300 for k in keys)
            hi = max(info[k].range.max if info[k].range.max is not None else 1e300 for k in keys)
            out = [k for k in out if info[k].range.max == lo or info[k].range.min == hi]
        return out

    def widen(a: str, b: str, score: float, used: set[str]) -> tuple[float, list[str], list[str]]:
        """Add sibling values to either side while lift × support improves."""
        left, right = [a], [b]
        improved = True
        while improved:
            improved = False
            for side in (left, right):
                other = right if side is left else left
                cur_n, cur_p = counts_of(side, other)
                for k in siblings(side):
                    k_n, k_p = counts_of([k], other)
                    if k_n < MIN_SEGMENT_N // 2 or k_p / k_n < WIDEN_RATE * cur_p / max(cur_n, 1):
                        continue
                    trial = value_of(side + [k], other)
                    if trial is not None and trial > score:
                        side.append(k)
                        score, improved = trial, True
                        cur_n, cur_p = counts_of(side, other)
        return score, left, right

    used: set[str] = set()
    taken: set[tuple[str, str]] = set()
    chosen: list[tuple[list[str], list[str]]] = []
    seeds = [(v, a, b) for v, a, b in ((value_of([a], [b]), a, b) for a, b in (tuple(sorted(k)) for k in pair)
             if info[a].attribute != info[b].attribute) if v is not None]
    while seeds and len(chosen) < MAX_SEGMENTS:
        seeds = [x for x in seeds if not (x[1] in used and x[2] in used) and (x[1], x[2]) not in taken]
        seeds.sort(key=lambda x: -x[0])
        widened = [widen(a, b, v, used) for v, a, b in seeds[:WIDEN_TOP]]
        if not widened:
            break
        _, left, right = max(widened, key=lambda w: w[0])
        chosen.append((left, right))
        used |= set(left) | set(right)
        taken |= {(a, b) for a in left for b in right} | {(b, a) for a in left for b in right}

    segments = []
    for i, (left, right) in enumerate(chosen):
        cs = [_merge([info[k] for k in side]) for side in (left, right)]
        n, p = counts_of(left, right)
        segments.append(Segment(id=f"s{i + 1}", name=" · ".join(_short(c) for c in cs), conditions=cs,
                                evidence=evidence(p, n, base)))
    return segments


def _pair_counts(engine: Engine, conds: dict[str, Condition], labels, closed_before: date | None
                 ) -> dict[frozenset, tuple[int, int]]:
    """(accounts, positives) for every pair of pool values, from one GROUP BY over membership bitmasks.

    One scan of `accounts` turns each account's pool memberships into one BIGINT (bit i = value i; CASE
    expressions, technologies from a flags subquery); SQL groups the worked accounts by mask and numpy
    counts every pair over the distinct masks.
    """

    keys = list(conds)
    multi = [(k, c) for k, c in conds.items() if is_multi_valued(c.attribute)]
    a = accounts
    source, flag_of = flagged_accounts(multi, None, 0)
    bits = [case((condition_test(conds[k], flag_of), literal(1 << i, BigInteger)), else_=literal(0, BigInteger))
            for i, k in enumerate(keys)]
    mask = sum(bits[1:], bits[0])
    masks = select(a.c.account_id, mask.label("mask")).select_from(source).subquery("masks")
    lab = labels.subquery("labels")
    with engine.connect() as conn:
        rows = conn.execute(
            select(masks.c.mask, func.count(), func.sum(lab.c.best))
            .select_from(masks.join(lab, lab.c.account_id == masks.c.account_id))
            .group_by(masks.c.mask)
        ).all()
    if not rows:
        return {}
    mask_np = np.array([int(r[0]) for r in rows], dtype=np.uint64)
    n = np.array([int(r[1]) for r in rows], dtype=np.float64)
    p = np.array([int(r[2] or 0) for r in rows], dtype=np.float64)
    member = np.stack([((mask_np >> np.uint64(i)) & np.uint64(1)).astype(np.float64) for i in range(len(keys))])
    both_n = np.rint(member @ (member * n).T)  # float matmul (BLAS); counts are exact below 2**53
    both_p = np.rint(member @ (member * p).T)
    out = {}
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if both_n[i, j]:
                out[frozenset((keys[i], keys[j]))] = (int(both_n[i, j]), int(both_p[i, j]))
    return out


def _merge(items: list) -> Condition:
    """One condition covering the chosen values of one attribute (a range for adjacent bands)."""
    attr = items[0].attribute
    if items[0].range is not None:
        lo = [c.range.min for c in items]
        hi = [c.range.max for c in items]
        return Condition(attribute=attr, range=Range(min=None if None in lo else min(lo),
                                                     max=None if None in hi else max(hi)))
    values = [c.value for c in items]
    return Condition(attribute=attr, value=values[0]) if len(values) == 1 else Condition(attribute=attr,
                                                                                       values=values)


def segment_bonuses(engine: Engine, definition: ICPDefinition, *, closed_before: date | None) -> ICPDefinition:
    """Give each segment the bonus points its members' criteria do not already pay: the segment's WoE in
    points minus the mean criteria points of its members (never negative)."""

    if not definition.segments or not definition.positives or definition.population is None:
        return definition
    positives = definition.positives
    negatives = definition.population - positives
    p = points_query(definition.model_copy(update={"segments": []}), include_triggers=False).subquery("p")
    out = []
    with engine.connect() as conn:
        for s in definition.segments:
            members = members_query(s.conditions, closed_before=closed_before).subquery("members")
            mean = conn.execute(select(func.avg(p.c.points)).select_from(
                p.join(members, members.c.account_id == p.c.account_id))).scalar()
            ev: Evidence | None = s.evidence
            if ev is None:
                out.append(s)
                continue
            w = stats.woe(ev.positives, ev.n - ev.positives, positives, negatives, 2)
            bonus = max(0, round(stats.points(w) - float(mean or 0.0)))
            out.append(s.model_copy(update={"points": int(bonus),
                                            "evidence": ev.model_copy(update={"woe": round(w, 4)})}))
    return definition.model_copy(update={"segments": out})

"""Segment search: a shallow, greedy rule search for conjunctions of two conditions; up to 3 are kept.

Candidates are the attribute values with the most positives (kept as criteria or not: a conjunction can
win where neither part does alone). One SQL self-join of
their memberships counts every pair; a pair qualifies when its adjusted interval clears the base rate and
it does better than either part. The best pair (by excess positives: support × (rate − rate of the better
part alone), i.e. lift over the parts weighted by support) is widened with sibling values
of single-valued attributes while that improves lift × support, then the next pair not reusing a value
whose members overlap no chosen segment's by more than half (so one group of accounts is not described twice,
once by employees and once by revenue). A segment's bonus points are the interaction its criteria do not
already pay for; candidates worth no points are dropped. Names are in business words, and each kept segment
carries its share of accounts, won deals and revenue.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from sqlalchemy import BigInteger, Connection, Engine, FromClause, Select, and_, case, cast, func, literal
from sqlalchemy import select, true
from threadpoolctl import threadpool_limits

from icp_mcp.archive.schema import accounts, arr_snapshots, opportunities
from icp_mcp.engine.model import stats
from icp_mcp.engine.model.catalogue import is_multi_valued, is_numeric, kind_of
from icp_mcp.engine.sql.labels import closed_deals_where
from icp_mcp.engine.model.profile import Condition, ICPDefinition, Range, Segment
from icp_mcp.engine.sql.fetch import numpy_columns
from icp_mcp.engine.sql.matching import matches_query
from icp_mcp.engine.sql.points import condition_test, flagged_accounts

POOL = 60
MIN_SEGMENT_N = 20
FAMILY_ALPHA = 0.05
MAX_SEGMENTS = 3
MAX_CANDIDATES = 6  # candidates searched; those whose bonus comes to 0 points are dropped, 3 kept
MIN_BONUS = 5  # a segment is kept only when it is worth points of its own (the minimum effect of a criterion)
MAX_OVERLAP = 0.5
NEAR_TIE = 0.98  # candidates within 2% of the best excess count as equally valuable  # two segments share at most half of the smaller one's worked accounts
ADDS_VALUE = 1.25  # each condition must lift the rate within the other by at least 25%
WIDEN_TOP = 12  # widen this many of the best pairs before choosing one
PAIR_CHUNK = 2048  # mask groups per pair-count product: small enough to stay in cache
WIDEN_RATE = 0.8  # a sibling value joins a segment only if its own rate there is at least 80% of the segment's


def _values_text(cond: Condition, universe: dict[str, set[str]]) -> str:
    """'Software/Fintech', or 'non-Pre-seed' when the condition accepts all but one or two known values."""
    accepted = cond.accepted()
    rest = sorted(universe.get(cond.attribute, set()) - set(accepted))
    if len(accepted) > 3 and 0 < len(rest) <= 2:
        return "non-" + "/".join(rest)
    return "/".join(accepted)


def _size_word(cond: Condition) -> str:
    """A company-size word for an employees or revenue range."""
    lo = cond.range.min if cond.range and cond.range.min is not None else 0.0
    hi = cond.range.max if cond.range and cond.range.max is not None else math.inf
    small, large = SIZE_EDGES[cond.attribute]
    if hi <= small:
        return "Small-business"
    if lo >= large:
        return "Enterprise"
    if lo >= small * 0.99 or hi <= large:
        return "Mid-market"
    return ""


#: (small, large): below `small` is a small business, from `large` on an enterprise (employees, revenue).
SIZE_EDGES = {"employees": (200.0, 1000.0), "annual_revenue": (5e7, 1e9)}


def business_name(conds: list[Condition], universe: dict[str, set[str]] | None = None) -> str:
    """A segment's name in business words: 'Mid-market (200–999 employees) Software/Fintech',
    'Software/Fintech using Snowflake', 'Enterprise accounts in EMEA'."""
    universe = universe or {}
    by = {c.attribute: c for c in conds}
    prefix: list[str] = []
    qualifiers: list[str] = []
    sized = by.get("employees") or by.get("annual_revenue")
    if sized is not None and sized.range is not None:
        word = _size_word(sized)
        unit = "employees" if sized.attribute == "employees" else "revenue"
        band = f"{sized.range.label()} {unit}"
        prefix.append(f"{word} ({band})" if word else band)
    if "business_model" in by:
        prefix.append(_values_text(by["business_model"], universe))
    noun = _values_text(by["industry"], universe) if "industry" in by else "accounts"
    for c in conds:
        if c.attribute in ("industry", "business_model") or c is sized:
            continue
        if c.range is not None:
            what = {"annual_revenue": "revenue", "employees": "employees", "founded_year": "founded"}
            qualifiers.append(f"with {c.range.label()} {what.get(c.attribute, c.attribute)}"
                              if c.attribute != "founded_year" else f"founded {c.range.label()}")
        elif c.attribute == "technology":
            qualifiers.append(f"using {_values_text(c, universe)}")
        elif c.attribute in ("region", "country", "territory"):
            qualifiers.append(f"in {_values_text(c, universe)}")
        elif c.attribute == "funding_stage":
            qualifiers.append(f"at {_values_text(c, universe)}")
        else:
            qualifiers.append(f"{c.attribute.removeprefix('attributes.')} {_values_text(c, universe)}")
    return " ".join([*prefix, noun, *qualifiers])


def _single_valued(attribute: str) -> bool:
    return kind_of(attribute) is not None and not is_multi_valued(attribute)


def search_segments(conn: Connection, counts: list, base: float, totals_best: int, totals_n: int,
                    z_keep: float, *, labels: Select, evidence) -> list[Segment]:
    """Up to MAX_CANDIDATES candidate segments, pairwise overlapping at most MAX_OVERLAP, from the value
    counts (`counts` are counts.ValueCounts with band ranges set) over the accounts of `labels`
    (`labels.labels_query` columns; derivation leaves the disqualified accounts out)."""
    if not base or totals_best == 0:
        return []
    # Marginal lift is not required: a conjunction can win where neither part does on its own.
    pool = [c for c in counts if c.attribute != "trigger" and c.n >= MIN_SEGMENT_N and c.value is not None]
    pool.sort(key=lambda c: (-c.best, c.attribute, str(c.value)))
    pool = pool[:POOL]
    if len(pool) < 2:
        return []
    universe: dict[str, set[str]] = {}
    for c in counts:
        if c.value is not None:
            universe.setdefault(c.attribute, set()).add(c.value)
    conds = {f"p{i}": Condition(**c.condition()) for i, c in enumerate(pool)}
    info = {f"p{i}": c for i, c in enumerate(pool)}
    pair, groups = _pair_counts(conn, conds, labels)
    index = {k: i for i, k in enumerate(conds)}

    def members(left: list[str], right: list[str]):
        """Per mask group: does it hold members of (any of `left`) and (any of `right`)?"""
        member = groups[0]
        return member[[index[k] for k in left]].any(axis=0) & member[[index[k] for k in right]].any(axis=0)

    def overlap(x, y) -> float:
        n = groups[1]
        small = min(n[x].sum(), n[y].sum())
        return float(n[x & y].sum() / small) if small else 0.0
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
    chosen_members: list = []
    while seeds and len(chosen) < MAX_CANDIDATES:
        seeds = [x for x in seeds if not (x[1] in used and x[2] in used) and (x[1], x[2]) not in taken]
        seeds.sort(key=lambda x: -x[0])
        top = seeds[:WIDEN_TOP]
        widened = _sharpest_first([widen(a, b, v, used) for v, a, b in top], counts_of)
        if not widened:
            break
        pick = next(((left, right, m) for _, left, right in widened
                     for m in [members(left, right)] if all(overlap(m, o) <= MAX_OVERLAP for o in chosen_members)),
                    None)
        if pick is None:  # all of these repeat a chosen segment's accounts: try the next seeds
            taken |= {(a, b) for _, a, b in top}
            continue
        left, right, m = pick
        chosen.append((left, right))
        chosen_members.append(m)
        used |= set(left) | set(right)
        taken |= {(a, b) for a in left for b in right} | {(b, a) for a in left for b in right}

    segments = []
    for i, (left, right) in enumerate(chosen):
        cs = [_merge([info[k] for k in side]) for side in (left, right)]
        n, p = counts_of(left, right)
        segments.append(Segment(id=f"s{i + 1}", name=business_name(cs, universe), conditions=cs,
                                evidence=evidence(p, n, base)))
    return segments


def _sharpest_first(widened: list[tuple[float, list[str], list[str]]], counts_of) -> list:
    """Candidates by excess positives; those within NEAR_TIE of the best come first, the sharpest (highest
    lower bound of the rate) first among them: two descriptions worth the same, the more specific one wins."""
    if not widened:
        return []
    top = max(w[0] for w in widened)

    def key(w):
        if w[0] >= NEAR_TIE * top:
            n, p = counts_of(w[1], w[2])
            return (0, -stats.wilson(p, n)[0])
        return (1, -w[0])

    return sorted(widened, key=key)


def _pair_counts(conn: Connection, conds: dict[str, Condition], labels: Select
                 ) -> tuple[dict[frozenset, tuple[int, int]], tuple[np.ndarray, np.ndarray]]:
    """(accounts, positives) for every pair of pool values, from one GROUP BY over membership bitmasks.

    One scan of `accounts` turns each account's pool memberships into one BIGINT (bit i = value i; CASE
    expressions, technologies OR-ed per account in one aggregate); SQL groups the worked accounts by mask and
    numpy counts every pair over the distinct masks. Also returns the mask groups (membership matrix value ×
    group, accounts per group) so that any segment's members can be counted without another query.
    """

    keys = list(conds)
    a = accounts
    bits = [case((condition_test(conds[k], {}), literal(1 << i, BigInteger)), else_=literal(0, BigInteger))
            for i, k in enumerate(keys) if not is_multi_valued(conds[k].attribute)]
    # multi-valued values (technologies): their bits OR-ed per account in one aggregate (the match's points
    # column carries the bit's position)
    multi = [(k, conds[k], i) for i, k in enumerate(keys) if is_multi_valued(conds[k].attribute)]
    source = a
    if multi:
        m = matches_query(multi, distinct=False).subquery("mv")
        bit = cast(literal(1), BigInteger).op("<<")(m.c.points)
        flags = (select(m.c.account_id, func.bit_or(bit).label("bits")).group_by(m.c.account_id)
                 .subquery("flags"))
        source = a.outerjoin(flags, flags.c.account_id == a.c.account_id)
        bits.append(func.coalesce(flags.c.bits, literal(0, BigInteger)))
    mask = sum(bits[1:], bits[0])
    masks = select(a.c.account_id, mask.label("mask")).select_from(source).subquery("masks")
    lab = labels.subquery("labels")
    mask_np, n, p = numpy_columns(conn, (
        select(masks.c.mask, func.count().label("n"), cast(func.sum(lab.c.best), BigInteger).label("p"))
        .select_from(masks.join(lab, lab.c.account_id == masks.c.account_id))
        .group_by(masks.c.mask)))
    if not len(mask_np):
        return {}, (np.zeros((len(keys), 0), dtype=bool), np.zeros(0))
    n, p = n.astype(np.float64), p.astype(np.float64)
    # mask group x value, one byte per bit (unpacking the masks' bytes: a shift per value cost 1 s at 1M)
    bits = np.unpackbits(mask_np.astype("<i8").view(np.uint8).reshape(-1, 8), axis=1,
                         bitorder="little")[:, :len(keys)]
    # float matmul (BLAS) over chunks of mask groups that stay in cache (whole-array float copies cost 0.9 s at
    # 614k groups); sums of counts are exact below 2**24 in float32, 2**53 in float64
    kind = np.float32 if n.sum() < 2 ** 24 else np.float64
    both_n, both_p = np.zeros((len(keys), len(keys)), kind), np.zeros((len(keys), len(keys)), kind)
    n_k, p_k = n.astype(kind)[:, None], p.astype(kind)[:, None]
    with threadpool_limits(1, user_api="blas"):  # a small product: BLAS threads on busy cores cost 50x
        for at in range(0, len(bits), PAIR_CHUNK):
            part = bits[at:at + PAIR_CHUNK].astype(kind)
            both_n += part.T @ (part * n_k[at:at + PAIR_CHUNK])
            both_p += part.T @ (part * p_k[at:at + PAIR_CHUNK])
    both_n, both_p = np.rint(both_n), np.rint(both_p)
    member = bits.T.astype(bool)  # value x mask group
    out = {}
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if both_n[i, j]:
                out[frozenset((keys[i], keys[j]))] = (int(both_n[i, j]), int(both_p[i, j]))
    return out, (member, n)


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


def segment_bonuses(conn: Connection, definition: ICPDefinition, candidates: list[Segment],
                    points: FromClause, *, positives: int, negatives: int) -> tuple[ICPDefinition, list[int]]:
    """Give each candidate the bonus points its members' criteria do not already pay (the segment's WoE in
    points minus its members' mean criteria points over all accounts' mean) and keep the first MAX_SEGMENTS whose bonus is
    at least MIN_BONUS; `positives` / `negatives` are the population the segments were counted on.

    `points` holds every account's criteria points without triggers and segments, and m<i> = 1 for the
    members of `candidates[i]` (`points.points_parts_query(..., members=...)`). Also returns the index in
    `candidates` of each kept segment."""

    scored = [i for i, s in enumerate(candidates) if s.evidence is not None]
    if not scored or not positives or not negatives:
        return definition.model_copy(update={"segments": []}), []
    p = points
    means = [func.avg(case((p.c[f"m{i}"] == 1, p.c.points))) for i in scored]
    overall, *row = conn.execute(select(func.avg(p.c.points), *means)).one()
    out, kept = [], []
    for i, mean in zip(scored, row, strict=True):
        s = candidates[i]
        ev = s.evidence
        w = stats.woe(ev.positives, ev.n - ev.positives, positives, negatives, 2)
        # the segment's odds against the base, less what its members' criteria already pay over the average
        bonus = round(stats.points(w) - (float(mean or 0.0) - float(overall or 0.0)))
        if bonus >= MIN_BONUS and len(out) < MAX_SEGMENTS:
            out.append(s.model_copy(update={"id": f"s{len(out) + 1}", "points": int(bonus),
                                            "evidence": ev.model_copy(update={"woe": round(w, 4)})}))
            kept.append(i)
    return definition.model_copy(update={"segments": out}), kept


def with_bonuses(points: FromClause, segments: list[Segment], kept: list[int]) -> FromClause:
    """`points` with each kept segment's bonus added to its members' points (m<kept[j]> = 1 gets
    segments[j].points), the other columns as they are."""
    bonus = [case((points.c[f"m{i}"] == 1, float(s.points)), else_=0.0)
             for s, i in zip(segments, kept, strict=True)]
    total = points.c.points + sum(bonus[1:], bonus[0]) if bonus else points.c.points
    return select(points.c.account_id, total.label("points"), points.c.triggers,
                  points.c.disqualified).subquery("scored")


def segment_shares(engine: Engine, definition: ICPDefinition, *, closed_before: date | None) -> ICPDefinition:
    """Each segment's share of all accounts, of won deals (closed before the cut) and of customers'
    lifetime revenue: the 80/20 view of where the business comes from."""

    if not definition.segments:
        return definition
    o, a = opportunities, arr_snapshots
    won = (select(o.c.account_id, func.count().label("wins"), func.sum(func.coalesce(o.c.amount, 0.0)).label("amount"))
           .where(o.c.stage == "won", closed_deals_where(closed_before)).group_by(o.c.account_id).subquery("w"))
    arr = (select(a.c.account_id, (func.sum(a.c.arr) / 12.0).label("revenue"))
           .where(true() if closed_before is None else a.c.month < closed_before)
           .group_by(a.c.account_id).subquery("arr"))
    multi = [c for s in definition.segments for c in s.conditions if is_multi_valued(c.attribute)]
    source, flag_of = flagged_accounts([(f"f{i}", c) for i, c in enumerate(multi)], None, 0)
    # lifetime revenue as the value score counts it: ARR months / 12, or the won amounts without ARR data
    wins = func.coalesce(won.c.wins, 0)
    revenue = case((won.c.wins.is_(None), 0.0), else_=func.coalesce(arr.c.revenue, won.c.amount, 0.0))
    cols = [func.count(), func.sum(wins), func.sum(revenue)]
    for s in definition.segments:
        inside = and_(*(condition_test(c, flag_of) for c in s.conditions))
        cols += [func.sum(case((inside, 1), else_=0)), func.sum(case((inside, wins), else_=0)),
                 func.sum(case((inside, revenue), else_=0.0))]
    with engine.connect() as conn:
        row = conn.execute(select(*cols).select_from(
            source.outerjoin(won, won.c.account_id == accounts.c.account_id)
            .outerjoin(arr, arr.c.account_id == accounts.c.account_id))).one()
    totals = [float(x or 0) for x in row[:3]]
    out = []
    for i, s in enumerate(definition.segments):
        part = [float(x or 0) for x in row[3 + 3 * i: 6 + 3 * i]]
        share = [round(min(1.0, x / t), 4) if t else None for x, t in zip(part, totals, strict=True)]
        out.append(s.model_copy(update={"share_accounts": share[0], "share_wins": share[1],
                                        "share_revenue": share[2]}))
    return definition.model_copy(update={"segments": out})

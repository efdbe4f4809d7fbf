"""Derivation: contrast best customers with the worked population and keep what the data supports.

It refuses below MIN_WON_DEALS / MIN_LOST_DEALS closed deals. One GROUP BY over the (account, attribute,
value) relation joined to the labels gives, for every value, its support, best customers, wins and retention;
disqualifiers come from those counts, then the counts are taken again without the disqualified accounts (so a
disqualifier casts no shadow on the other values of its attribute). Each attribute's values are binned
optimally (`binning.py`: like rates together), a bin becomes a criterion when its interval clears the base
and it earns |points| >= MIN_POINTS, the MAX_SHOWN strongest are shown (the rest are minor), up to 3
segments worth points and overlapping at most half are searched, and what the data cannot support is said.

Many values are tested at once, so the keep decision uses a Bonferroni-adjusted Wilson interval (familywise
5%); the evidence shows the plain 95% interval. See docs/ARCHITECTURE.md, "Departures"."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
import dataclasses
from datetime import date

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, FromClause, Select, case, func, select
from sqlalchemy.exc import SQLAlchemyError

from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.schema import accounts, opportunities
from icp_mcp.engine.model import stats
from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.model.stats import evidence
from icp_mcp.engine.sql.attributes import attribute_relation, catalogue_attributes, value_expr
from icp_mcp.engine.model.catalogue import TRIGGER_WINDOW_DAYS, band_label, bands, is_multi_valued, is_numeric
from icp_mcp.engine.sql.labels import (
    MIN_LOST_DEALS,
    MIN_WON_DEALS,
    closed_deal_counts,
    closed_deals_where,
    insufficiency,
    labels_query,
    positives_rule,
)
from icp_mcp.engine.sql.matching import matches_query
from icp_mcp.engine.sql.temp import once
from icp_mcp.engine.model.errors import InsufficientData
from icp_mcp.engine.derivation.binning import Item, heterogeneous, optimal_bins, order_categories
from icp_mcp.engine.derivation.counts import Totals, ValueCounts
from icp_mcp.engine.model.profile import (
    Condition,
    Criterion,
    Disqualifier,
    ICPDefinition,
    Range,
    Trigger,
    ValueWeights,
)
from icp_mcp.engine.derivation.segments import search_segments, segment_bonuses, segment_shares, with_bonuses
from icp_mcp.engine.derivation.personas import derive_personas
from icp_mcp.engine.scoring.tiers import tiers_and_calibration
from icp_mcp.engine.sql.points import points_parts_query
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.engine.sql.triggers import closed_deal_kinds, trigger_counts

Progress = Callable[[float, float | None, str], None]

MIN_N = 5            # a value is tested only with at least this many accounts
DQ_MIN_N = 20        # a disqualifier needs this many accounts
DQ_FACTOR = 0.5      # "far below": win rate at most half the base (or churn at least double)
FAMILY_ALPHA = 0.05
UNSUPPORTED_LIFT = 1.5
MAX_UNSUPPORTED = 25
MIN_POINTS = 5       # a criterion must matter in practice: |points| >= 5 (odds x 1.19)
MAX_SHOWN = 12       # criteria shown on the card; the rest are kept as `minor` (still scored)
STEPS = 7


def _aggregate(conn: Connection, labels: Select, attrs: list[str], closed_before: date | None, window: int
               ) -> tuple[tuple[int, ...], list[ValueCounts]]:
    """(n, best, won, customers, retained) and per-value counts over the accounts of `labels`.

    Single-valued attributes: one scan of `accounts` joined to the labels, one GROUPING SET per attribute
    (its `value_expr`, as in the attribute relation; NULL values dropped as there); multi-valued ones
    (technologies): their part of the attribute relation, grouped by value."""
    lab = labels.subquery("labels")
    sums = (func.count(), func.coalesce(func.sum(lab.c.best), 0), func.coalesce(func.sum(lab.c.won), 0),
            func.count(lab.c.retained), func.coalesce(func.sum(lab.c.retained), 0))
    t = conn.execute(select(*sums).select_from(lab)).one()
    single = [a for a in attrs if value_expr(a) is not None]
    multi = [a for a in attrs if value_expr(a) is None]
    rows: list = []
    if single:
        # values in a subquery first: PostgreSQL would not match a CASE with bound parameters in GROUP BY
        v = (select(lab, *(value_expr(a).label(f"v{i}") for i, a in enumerate(single)))
             .select_from(lab.join(accounts, accounts.c.account_id == lab.c.account_id)).subquery("v"))
        cols = [v.c[f"v{i}"] for i in range(len(single))]
        sums_v = (func.count(), func.sum(v.c.best), func.sum(v.c.won), func.count(v.c.retained),
                  func.coalesce(func.sum(v.c.retained), 0))
        for r in conn.execute(select(*cols, *sums_v).group_by(func.grouping_sets(*cols))).all():
            hit = [(a, x) for a, x in zip(single, r[:len(single)], strict=True) if x is not None]
            if hit:  # the NULL group of each attribute holds accounts without a value: not a value
                rows.append((*hit[0], *r[len(single):]))
    if multi:
        rel = attribute_relation(multi, closed_before=closed_before, trigger_window_days=window).subquery()
        rows += conn.execute(
            select(rel.c.attribute, rel.c.value, func.count(), func.sum(lab.c.best), func.sum(lab.c.won),
                   func.count(lab.c.retained), func.coalesce(func.sum(lab.c.retained), 0))
            .select_from(rel.join(lab, lab.c.account_id == rel.c.account_id))
            .where(rel.c.value.is_not(None))
            .group_by(rel.c.attribute, rel.c.value)
        ).all()
    rows.sort(key=lambda r: (r[0], str(r[1])))  # one order on every engine (a GROUP BY has none)
    counts = [ValueCounts(a, v, None, int(n), int(b), int(w), int(c), int(r)) for a, v, n, b, w, c, r in rows]
    return tuple(int(x) for x in t), counts


def _closed_span(conn: Connection, closed_before: date | None) -> tuple[date | None, date | None]:
    o = opportunities
    span = select(func.min(o.c.closed_at), func.max(o.c.closed_at)).where(closed_deals_where(closed_before))
    return tuple(conn.execute(span).one())


def _without(totals: Totals, counts: list[ValueCounts], gone: tuple[int, ...], gone_counts: list[ValueCounts]
             ) -> tuple[Totals, list[ValueCounts]]:
    """The counts less those of some of the accounts (the disqualified ones: a second aggregate over only
    them, not over everyone again); values left with no account are dropped, as a GROUP BY would."""
    fields = ("n", "best", "won", "customers", "retained")
    less = {(c.attribute, c.value): c for c in gone_counts}
    out = []
    for c in counts:
        g = less.get((c.attribute, c.value))
        left = [getattr(c, f) - (getattr(g, f) if g else 0) for f in fields]
        if left[0] > 0:
            out.append(ValueCounts(c.attribute, c.value, None, *left))
    rest = Totals(*(getattr(totals, f) - x for f, x in zip(fields, gone, strict=True)),
                  totals.closed_from, totals.closed_to)
    return rest, out


def _band_counts(counts: list[ValueCounts]) -> dict[str, list[ValueCounts | None]]:
    """Numeric values in band order (None for empty bands), with their ranges set."""
    out: dict[str, list[ValueCounts | None]] = {}
    by_key = {(c.attribute, c.value): c for c in counts if is_numeric(c.attribute)}
    for attribute in {c.attribute for c in counts if is_numeric(c.attribute)}:
        seq: list[ValueCounts | None] = []
        for lo, hi in bands(attribute):
            c = by_key.get((attribute, band_label(lo, hi)))
            if c is not None:
                c.range = Range(min=lo, max=hi)
            seq.append(c)
        out[attribute] = seq
    return out


def _merge_runs(seq: list[ValueCounts | None], flag: Callable[[ValueCounts], bool]) -> list[ValueCounts]:
    """Merge runs of adjacent flagged bands into one range with summed counts."""
    merged: list[ValueCounts] = []
    run: list[ValueCounts] = []
    for c in [*seq, None]:
        if c is not None and flag(c):
            run.append(c)
            continue
        if run:
            merged.append(_merged(run))
            run = []
    return merged


def _select(counts: list[ValueCounts], flag: Callable[[ValueCounts], bool]) -> list[ValueCounts]:
    """Flagged values: categorical ones as they are, numeric bands merged into ranges."""
    chosen = [c for c in counts if not is_numeric(c.attribute) and flag(c)]
    for seq in _band_counts(counts).values():
        chosen.extend(_merge_runs(seq, flag))
    return chosen


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(p for p in out.split("-") if p)[:60]


def derive_icp(
    engine: Engine,
    *,
    closed_before: date | None = None,
    best_top_n: int | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    previous: ICPDefinition | None = None,
    positives: str | None = None,
) -> ICPDefinition:
    """Derive an ICP from deals closed before `closed_before` (all when None); manual rules of `previous`
    (default: the active version) are kept.

    Positives are retained customers by default, or the best-customer cohort (by value) with
    `positives="best"` or when `best_top_n` is given; see docs/ARCHITECTURE.md for why.
    """

    step = progress or (lambda done, total, message: None)
    if previous is None:
        try:  # the previous definition's value weights and trigger window, when one is readable
            previous = active_icp(engine, required=False)
        except (SQLAlchemyError, ValidationError):
            previous = None
    weights = previous.value_weights if previous else ValueWeights()
    window = previous.trigger_window_days if previous else TRIGGER_WINDOW_DAYS

    step(0, STEPS, "counting closed deals")
    positives = positives or ("best" if best_top_n is not None else "retained")
    labels_query(closed_before, weights, best_top_n, positives)  # refuses an unknown `positives` first
    won_deals, lost_deals = closed_deal_counts(engine, closed_before)
    problem = insufficiency(won_deals, lost_deals)
    if problem:
        raise InsufficientData(problem, won=won_deals, lost=lost_deals)
    step(0.5, STEPS, "labelling the worked population and best customers")
    # The closed deals' signal kinds (a range join of deals and signals) are read by the trigger criteria and
    # by the calibration, and the labelled worked accounts by every count: each computed once (DuckDB
    # temporary tables on one connection; CTEs elsewhere).
    with engine.connect() as conn, once(conn, closed_deal_kinds(window, closed_before),
                                        "derive_deal_kinds") as deal_kinds:
        attrs = [a for a in catalogue_attributes(engine) if a != "trigger"]
        with ExitStack() as temps:
            labelled = temps.enter_context(once(conn, labels_query(closed_before, weights, best_top_n, positives),
                                                "derive_labels"))
            labels = select(labelled)
            t, all_counts = _aggregate(conn, labels, attrs, closed_before, window)
            everyone = Totals(*t, *_closed_span(conn, closed_before))
            step(1, STEPS, f"aggregated {len(all_counts)} attribute values over {everyone.n} worked accounts")

            tested = [c for c in all_counts if c.n >= MIN_N]
            z_keep = stats.z_for(1 - FAMILY_ALPHA / max(len(tested), 1))

            step(2, STEPS, "testing values against the base rate")
            disqualifiers = _disqualifiers(all_counts, everyone, z_keep)

            # Criteria and segments are computed on the accounts no disqualifier removes: once Pre-seed is a
            # disqualifier, "Series A" must not earn points merely for not being Pre-seed.
            exclude = _disqualified_ids(disqualifiers, closed_before) if disqualifiers else None
            totals, counts = everyone, all_counts
            if exclude is not None:
                # each labelled account flagged once (the rules' match is read by the counts and the segments)
                flagged = temps.enter_context(once(conn, _flagged(labelled, exclude), "derive_flagged"))
                same = [flagged.c[c.name] for c in labelled.columns]
                gone = _aggregate(conn, select(*same).where(flagged.c.dq == 1), attrs, closed_before, window)
                totals, counts = _without(everyone, all_counts, *gone)
                labels = select(*same).where(flagged.c.dq == 0)
            base = totals.best / totals.n if totals.n else 0.0
            criteria = _rank([*_binned_criteria(counts, totals, base, z_keep),
                              *_trigger_criteria(conn, closed_before, z_keep, deal_kinds)])
            unsupported = _unsupported(counts, [c for c in counts if c.n >= MIN_N], criteria, disqualifiers, base,
                                       totals)
            step(3, STEPS, f"{len(criteria)} criteria, {len(disqualifiers)} disqualifiers kept")

            segments = search_segments(conn, counts, base, totals.best, totals.n, z_keep, labels=labels,
                                       evidence=evidence)
        step(4, STEPS, f"{len(segments)} candidate segments")

        if previous is not None:
            taken = {c.id for c in criteria}
            for c in previous.criteria:
                if c.source == "manual":
                    cid = c.id if c.id not in taken else f"m{len(taken) + 1}"
                    taken.add(cid)
                    criteria.append(c.model_copy(update={"id": cid}))
            rule_ids = {d.id for d in disqualifiers}
            disqualifiers += [d for d in previous.disqualifiers if d.source == "manual" and d.id not in rule_ids]

        personas = derive_personas(engine, closed_before=closed_before)
        step(5, STEPS, f"{len(personas)} personas")

        triggers = [Trigger(kind=c.value or "", window_days=window, points=c.points, evidence=c.evidence)
                    for c in criteria if c.attribute == "trigger" and c.value]
        definition = ICPDefinition(
            name=name or (previous.name if previous else "Derived ICP"),
            description=previous.description if previous else None,
            closed_from=everyone.closed_from, closed_to=everyone.closed_to,
            base_rate=round(everyone.best / everyone.n, 4), population=everyone.n, positives=everyone.best,
            best_rule=positives_rule(positives, best_top_n),
            segments=[], criteria=criteria, disqualifiers=disqualifiers, personas=personas,
            triggers=triggers, trigger_window_days=window, value_weights=weights, unsupported=unsupported,
            method={
                "min_n": MIN_N, "values_tested": len(tested), "keep_z": round(z_keep, 3),
                "familywise_alpha": FAMILY_ALPHA, "shrinkage_k": stats.SHRINK_K,
                "closed_before": closed_before.isoformat() if closed_before else "",
                "win_rate": round(everyone.won / everyone.n, 4), "positives": positives,
                "criteria_population": totals.n, "criteria_base_rate": round(base, 4), "min_points": MIN_POINTS,
                "max_shown": MAX_SHOWN, "binning": "optimal (max IV, min bin 5%, consecutive bins differ p<0.05)",
                "min_won_deals": MIN_WON_DEALS, "min_lost_deals": MIN_LOST_DEALS,
            },
        )
        step(6, STEPS, "segment bonuses, tier cut-offs and calibration")
        # Every account's points scored once (a DuckDB temporary table, a CTE elsewhere), with each candidate
        # segment's membership: read by the bonuses, then with the kept bonuses by the tiers and calibration.
        scoring = points_parts_query(definition, as_of=utc_now(), members=[s.conditions for s in segments])
        with once(conn, scoring, "derive_points") as points:
            definition, kept = segment_bonuses(conn, definition, segments, points, positives=totals.best,
                                               negatives=totals.n - totals.best)
            definition = segment_shares(engine, definition, closed_before=closed_before)
            definition = tiers_and_calibration(conn, definition, with_bonuses(points, definition.segments, kept),
                                               closed_before=closed_before, deal_kinds=deal_kinds)
    step(STEPS, STEPS, "done")
    return definition


def _disqualifiers(counts: list[ValueCounts], totals: Totals, z_keep: float) -> list[Disqualifier]:
    """Values (numeric bands merged into ranges) whose win rate is at most half the base, or whose churn is
    at least double, with n >= DQ_MIN_N and the adjusted interval on the far side of the base."""
    win_base = totals.won / totals.n if totals.n else 0.0
    ret_base = totals.retained / totals.customers if totals.customers else None

    def dq_win(c: ValueCounts) -> bool:
        return (c.n >= DQ_MIN_N and win_base > 0 and c.won / c.n <= DQ_FACTOR * win_base
                and stats.wilson(c.won, c.n, z_keep)[1] < win_base)

    def dq_ret(c: ValueCounts) -> bool:
        if ret_base is None or c.customers < DQ_MIN_N or ret_base >= 1:
            return False
        churn, base_churn = 1 - c.retained / c.customers, 1 - ret_base
        return churn >= min(1.0, base_churn / DQ_FACTOR) and stats.wilson(c.retained, c.customers, z_keep)[1] < ret_base

    disqualifiers: list[Disqualifier] = []
    dq_labels: set[str] = set()
    for metric, flag in (("win_rate", dq_win), ("retention", dq_ret)):
        for c in _select(counts, flag):
            cond = Condition(**c.condition())
            if metric == "win_rate":
                ev = evidence(c.won, c.n, win_base)
                sentence = (f"Accounts with {cond.describe()} won {count(c.won)} of {count(c.n)} times "
                            f"({pct(ev.rate)}, 95% CI {pct(ev.interval[0])}–{pct(ev.interval[1])}) "
                            f"against {pct(win_base)} for all worked accounts.")
            else:
                ev = evidence(c.retained, c.customers, ret_base)
                sentence = (f"Customers with {cond.describe()} retained {count(c.retained)} of "
                            f"{count(c.customers)} ({pct(ev.rate)}, 95% CI {pct(ev.interval[0])}–"
                            f"{pct(ev.interval[1])}) against {pct(ret_base)} for all customers.")
            rid = f"dq-{_slug(c.label())}" + ("" if metric == "win_rate" else "-retention")
            if rid in {d.id for d in disqualifiers} or c.label() in dq_labels:
                continue
            disqualifiers.append(Disqualifier(id=rid, metric=metric, evidence=ev, sentence=sentence,
                                              source="derived", **c.condition()))
            dq_labels.add(c.label())
    return disqualifiers


def _disqualified_ids(disqualifiers: list[Disqualifier], closed_before: date | None) -> Select:
    """account_id of every account some disqualifier hits."""
    m = matches_query([(d.id, d, 0) for d in disqualifiers], closed_before=closed_before).subquery("dq_hits")
    return select(m.c.account_id).distinct()


def _flagged(labelled: FromClause, exclude: Select) -> Select:
    """The labelled accounts with dq = 1 when some disqualifier hits them (`exclude`), else 0."""
    hit = exclude.subquery("hit")
    dq = case((hit.c.account_id.is_not(None), 1), else_=0).label("dq")
    return (select(*labelled.columns, dq)
            .select_from(labelled.outerjoin(hit, hit.c.account_id == labelled.c.account_id)))


def _merged(items: list[ValueCounts]) -> ValueCounts:
    """One bin's counts: its values as a list (categorical) or its bands as one range (numeric)."""
    first, last = items[0], items[-1]
    sums = [sum(getattr(x, f) for x in items) for f in ("n", "best", "won", "customers", "retained")]
    if first.range is not None:
        return ValueCounts(first.attribute, None, Range(min=first.range.min, max=last.range.max), *sums)
    if len(items) == 1:
        return ValueCounts(first.attribute, first.value, None, *sums)
    biggest_first = sorted(items, key=lambda x: (-x.n, str(x.value)))
    return ValueCounts(first.attribute, None, None, *sums, values=[str(x.value) for x in biggest_first])


def _binned_criteria(counts: list[ValueCounts], totals: Totals, base: float, z_keep: float
                     ) -> list[tuple[float, Criterion]]:
    """(information value, criterion) for every bin that clears the base and earns |points| >= MIN_POINTS.

    Single-valued attributes whose values differ at all (`binning.heterogeneous`, Bonferroni over the
    attributes) are binned optimally (`binning.optimal_bins`): numeric bands in order, categories by rate; a
    technology is its own yes/no value. Points are WoE against the base, or against the attribute's lowest
    bin when every bin differs from the base."""
    if totals.best == 0 or totals.best == totals.n:
        return []
    pos, neg = totals.best, totals.n - totals.best
    bands_of = _band_counts(counts)
    out: list[tuple[float, Criterion]] = []
    attributes = sorted({c.attribute for c in counts})
    binned = [a for a in attributes if not is_multi_valued(a)]
    for attribute in attributes:
        values = [c for c in counts if c.attribute == attribute]
        if is_multi_valued(attribute):
            bins = [[c] for c in values]
        else:
            ordered = ([c for c in bands_of[attribute] if c is not None] if is_numeric(attribute)
                       else [i.key for i in order_categories([Item(c, c.n, c.best) for c in values], base)])
            items = [Item(c, c.n, c.best) for c in ordered]
            if not heterogeneous(items, FAMILY_ALPHA / max(len(binned), 1), MIN_N):
                continue  # no signal in the attribute as a whole: its rate-sorted extremes are noise
            a_n, a_p = sum(c.n for c in ordered), sum(c.best for c in ordered)
            chosen = optimal_bins(items, a_p, a_n - a_p)
            bins = [[i.key for i in b.items] for b in chosen]
            if len(bins) < 2:
                continue  # one bin holding every value says nothing about the attribute
            if is_numeric(attribute):  # the outer bins reach to the open ends
                bins[0][0] = _open(bins[0][0], low=True)
                bins[-1][-1] = _open(bins[-1][-1], low=False)
        lines = []
        for group in bins:
            c = _merged(group)
            w = stats.woe(c.best, c.n - c.best, pos, neg, max(len(bins), 2))
            lo, hi = stats.wilson(c.best, c.n, z_keep)
            pts = stats.points(w)
            clears = c.n >= MIN_N and not (lo <= base <= hi) and (pts > 0) == (c.best / c.n > base)
            lines.append((abs((c.best / pos - (c.n - c.best) / neg) * w), c, w, pts, clears))
        if not is_multi_valued(attribute) and all(line[4] for line in lines):
            # Every bin differs from the base: the lowest is the reference (0 points, not a line) and the
            # others earn points over it, so the card says "industry in {Software, Fintech}: +23" instead of
            # also listing the rest at -6.
            ref = min(line[3] for line in lines)
            lines = [(iv, c, w, pts - ref, True) for iv, c, w, pts, _ in lines if pts != ref]
        for iv, c, w, pts, clears in lines:
            if clears and abs(pts) >= MIN_POINTS:
                out.append((iv, Criterion(points=pts, evidence=evidence(c.best, c.n, base, w), source="derived",
                                          **c.condition())))
    return out


def _open(c: ValueCounts, *, low: bool) -> ValueCounts:
    """A copy of a band's counts whose range is open below (`low`) or above."""
    r = Range(min=None, max=c.range.max) if low else Range(min=c.range.min, max=None)
    return dataclasses.replace(c, range=r)


def _rank(scored: list[tuple[float, Criterion]]) -> list[Criterion]:
    """The MAX_SHOWN criteria of most information value are shown, the rest kept as minor; strongest first."""
    by_iv = sorted(scored, key=lambda x: -x[0])
    minor = {id(c) for _, c in by_iv[MAX_SHOWN:]}
    criteria = [c.model_copy(update={"minor": id(c) in minor}) for _, c in by_iv]
    criteria.sort(key=lambda c: (c.minor, -c.points, c.attribute))
    for i, c in enumerate(criteria):
        c.id = f"c{i + 1}"
    return criteria


def _trigger_criteria(conn: Connection, closed_before: date | None, z_keep: float, deal_kinds: FromClause
                      ) -> list[tuple[float, Criterion]]:
    """Signal kinds whose deals (signal within the window before creation) win clearly more or less often
    (`deal_kinds`: `triggers.closed_deal_kinds` for the cut and window)."""

    n, wins, rows = trigger_counts(conn, closed_before, deal_kinds)
    if not n or not wins or wins == n:
        return []
    base = wins / n
    out = []
    for kind, k, w in rows:
        if k < MIN_N:
            continue
        lo, hi = stats.wilson(w, k, z_keep)
        if lo <= base <= hi:
            continue
        woe = stats.woe(w, k - w, wins, n - wins, len(rows))
        pts = stats.points(woe)
        if abs(pts) < MIN_POINTS or (pts > 0) != (lo > base):
            continue
        iv = abs((w / wins - (k - w) / (n - wins)) * woe)
        out.append((iv, Criterion(attribute="trigger", value=kind, points=pts, evidence=evidence(w, k, base, woe),
                                  source="derived")))
    return out


def _unsupported(counts: list[ValueCounts], tested: list[ValueCounts], criteria: list[Criterion],
                 disqualifiers: list[Disqualifier], base: float, totals: Totals) -> list[str]:
    """Plain statements of what the data cannot support."""
    out: list[str] = []
    if totals.n == 0:
        return ["no closed deals in the derivation window: nothing can be derived (n = 0)"]
    if totals.best == 0:
        return [f"no best customers among {count(totals.n)} worked accounts: nothing can be derived"]
    if not criteria:
        out.append(f"no criterion clears the base rate ({pct(base)} best customers among n = {count(totals.n)} "
                   f"worked accounts, {count(len(tested))} values tested)")
    kept = {(c.attribute, v) for c in [*criteria, *disqualifiers] for v in c.accepted()}
    kept_ranges = [(c.attribute, c.range) for c in [*criteria, *disqualifiers] if c.range]
    notable = []
    for c in tested:
        if (c.attribute, c.value) in kept:
            continue
        if c.range and any(a == c.attribute and r.contains(c.range.min if c.range.min is not None else -1e300)
                           for a, r in kept_ranges):
            continue
        lift = (c.best / c.n) / base if base else 0
        if lift >= UNSUPPORTED_LIFT or lift <= 1 / UNSUPPORTED_LIFT:
            notable.append((c.n, c, lift))
    notable.sort(key=lambda x: -x[0])
    for n, c, lift in notable[:MAX_UNSUPPORTED]:
        out.append(f"{c.label()}: not supported by the data (n = {count(n)}, rate {pct(c.best / n)} vs base {pct(base)})")
    rare = sum(1 for c in counts if c.n < MIN_N)
    if rare:
        out.append(f"{count(rare)} attribute values with fewer than {MIN_N} worked accounts were not tested")
    return out

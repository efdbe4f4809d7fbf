"""ICP drift: do recent wins still look like the wins the active ICP was derived from?

Two windows of closed deals: `recent` (default the last 90 days) and `baseline` (the active ICP's
derivation window, cut where the recent window starts so that the two never overlap). Each window's deals
are counted per account in one pass over opportunities, joined once with `accounts` (the ICP and
segment flags come from the stored ICP state when it is current); one GROUPING SETS statement gives deals
per group (each ICP segment, inside / outside the ICP) and per attribute value, one more the deals per
distinct account and the missing attribute values, one the technologies. The baseline window's counts are
kept in the one cache per generation, definition and window. When the stored ICP state is current, all of
these are range sums over its drift facts instead (engine/sql/drift_facts.py: per closed day), the same
numbers without a pass over the deals. They feed five checks:

* **in-ICP share** of wins now vs at derivation (Wilson intervals, one-sided two-proportion test);
* **PSI** per attribute over the distribution of won deals' account values (DESIGN section 10, floor
  0.001), with a chi-square test of homogeneity so that noise on many small bins is not called a shift;
* **segment win rates** (each ICP segment, inside / outside the ICP) that moved, with intervals;
* **emerging values**: attribute values outside the ICP whose share of wins rose significantly;
* **data quality**: null rates per attribute now vs baseline.

Calibration (stationary demo archives must say `stable`, `--drift` ones `refresh`):
* one account's repeat deals are not independent: every test divides counts by the window's deals per
  distinct account (a first-order Rao–Scott design-effect correction);
* many values are tested at once: each family of `watch` tests runs at a Bonferroni-corrected
  family-wise level `ALPHA`, the PSI tests at `ALPHA_PSI`;
* verdict: `insufficient_data` under `MIN_WINS` wins in either window; `refresh` when the in-ICP share
  dropped significantly (p < `ALPHA_REFRESH`, by at least `MIN_SHARE_DROP`), an attribute the ICP uses
  shifted (PSI > 0.25, significant), or an emerging value on an ICP attribute is confirmed by that
  attribute's PSI (> 0.1, p < `ALPHA_CONFIRM`) — a confirmed change; `watch` for a PSI of 0.1–0.25 on an
  ICP attribute or above 0.25 elsewhere, a moved segment, an unconfirmed emerging value, a data-quality
  change or an unconfirmed in-ICP drop; else `stable`. Reasons name the attribute and values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement, Connection, Engine, FromClause, Select, String, and_, case, cast, func, inspect, not_, or_,
    select, tuple_,
)

from icp_mcp.archive.schema import account_technologies, accounts, icp_drift_facts, opportunities
from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.sql.attributes import value_expr
from icp_mcp.engine.model.catalogue import TECHNOLOGY, is_column, is_numeric
from icp_mcp.engine.questions.cohorts import icp_ids, in_icp_selectable, segment_selectable
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.model.stats import psi, psi_terms, wilson
from icp_mcp.engine.model.windows import Window
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache, drift_facts
from icp_mcp.engine.sql.drift_facts import SINGLE_VALUED, drift_attributes
from icp_mcp.engine.sql.temp import once

Verdict = Literal["stable", "watch", "refresh", "insufficient_data"]

MIN_WINS = 20
PSI_WATCH, PSI_SHIFT = 0.10, 0.25
ALPHA = 0.002  # family-wise level of each family of `watch` tests (Bonferroni inside the family)
ALPHA_CONFIRM = 0.01  # level at which an attribute's PSI confirms an emerging value on it
ALPHA_REFRESH = 0.001  # the in-ICP share drop that alone triggers `refresh`
ALPHA_PSI = 0.001  # family-wise level of the chi-square tests behind PSI (many attributes, many bins)
MIN_SHARE_DROP = 0.10
MIN_RATE_MOVE = 0.10
MIN_EMERGING_WINS = 5
MIN_NULL_MOVE = 0.10
MIN_BIN_EXPECTED = 5.0
#: Reports are compact: the attributes with the largest PSI (all are tested and counted).
MAX_PSI = 8
MISSING = "(missing)"
OTHER = "(other)"
TOP_VALUES = 3


class Share(BaseModel):
    positives: int
    n: int
    rate: float | None
    interval: tuple[float, float]


class ShareChange(BaseModel):
    """A rate now vs at baseline, with the test of the change."""

    baseline: Share
    recent: Share
    change: float | None = Field(description="recent rate − baseline rate")
    p_value: float | None = Field(description="two-proportion z test (one-sided for a drop, else two-sided)")
    significant: bool


class ValueShift(BaseModel):
    value: str
    baseline_share: float
    recent_share: float
    contribution: float = Field(description="this bin's term of the PSI sum")


class AttributePSI(BaseModel):
    attribute: str
    in_icp: bool = Field(description="the active ICP uses this attribute")
    psi: float
    bins: int
    chi2_p_value: float | None = Field(description="chi-square test of homogeneity of the two windows")
    significant: bool
    level: Literal["stable", "watch", "shift"]
    top_values: list[ValueShift] = Field(description="bins contributing most to the PSI")


class SegmentMove(BaseModel):
    segment: str
    name: str
    win_rate: ShareChange


class EmergingValue(BaseModel):
    attribute: str
    value: str
    baseline_share: float
    recent_share: float
    recent_wins: int
    recent_win_rate: Share = Field(description="win rate of deals with this value in the recent window")
    p_value: float


class NullRateChange(BaseModel):
    attribute: str
    null_rate: ShareChange


class Reason(BaseModel):
    severity: Literal["refresh", "watch"]
    kind: Literal["in_icp_share", "psi", "segment", "emerging", "data_quality"]
    attribute: str | None = None
    values: list[str] = Field(default_factory=list)
    text: str


class DriftReport(BaseModel):
    """Verdict (stable / watch / refresh / insufficient_data) with the evidence behind it."""

    verdict: Verdict
    summary: str
    reasons: list[Reason]
    recent_window: str
    baseline_window: str = Field(description="the ICP's derivation window")
    recent_wins: int
    baseline_wins: int
    in_icp_share: ShareChange | None = Field(description="share of wins in tiers A/B")
    psi: list[AttributePSI] = Field(description=f"the {MAX_PSI} largest")
    attributes_checked: int
    segments: list[SegmentMove] = Field(description="win rate per segment and in / out of the ICP")
    emerging: list[EmergingValue] = Field(description="values outside the ICP gaining wins")
    data_quality: list[NullRateChange] = Field(description="null rates that changed")
    truncated: bool = False


# --- statistics on counts -----------------------------------------------------------------------------


def share(positives: int, n: int) -> Share:
    lo, hi = wilson(positives, n)
    return Share(positives=positives, n=n, rate=round(positives / n, 4) if n else None,
                 interval=(round(lo, 4), round(hi, 4)))


def two_proportion_p(
    x1: float, n1: float, x2: float, n2: float, alternative: str = "two-sided"
) -> float | None:
    """p-value of a pooled two-proportion z test of p2 vs p1 ("less": p2 < p1, "greater": p2 > p1)."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x2 / n2 - x1 / n1) / se
    cdf = NormalDist().cdf(z)
    if alternative == "less":
        return cdf
    if alternative == "greater":
        return 1 - cdf
    return 2 * min(cdf, 1 - cdf)


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail of the chi-square distribution (Wilson–Hilferty normal approximation)."""
    if dof <= 0:
        return 1.0
    if x <= 0:
        return 1.0
    k = float(dof)
    z = ((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 1 - NormalDist().cdf(z)


def homogeneity_p(expected: list[float], actual: list[float]) -> float | None:
    """Chi-square test that two count vectors come from one distribution."""
    n1, n2 = sum(expected), sum(actual)
    if n1 == 0 or n2 == 0 or len(expected) < 2:
        return None
    stat = 0.0
    for e, a in zip(expected, actual, strict=True):
        col = e + a
        if col == 0:
            continue
        for obs, n in ((e, n1), (a, n2)):
            exp = col * n / (n1 + n2)
            stat += (obs - exp) ** 2 / exp
    return chi2_sf(stat, len(expected) - 1)


def change(base: tuple[int, int], recent: tuple[int, int], alpha: float, *, drop_only: bool = False,
           min_move: float = 0.0, deff: tuple[float, float] = (1.0, 1.0)) -> ShareChange:
    """A rate at baseline vs now; the test divides counts by each window's design effect `deff`."""
    b, r = share(*base), share(*recent)
    diff = None if b.rate is None or r.rate is None else round(r.rate - b.rate, 4)
    p = two_proportion_p(base[0] / deff[0], base[1] / deff[0], recent[0] / deff[1], recent[1] / deff[1],
                         "less" if drop_only else "two-sided")
    sig = p is not None and diff is not None and p < alpha and abs(diff) >= min_move
    if drop_only and diff is not None and diff > 0:
        sig = False
    return ShareChange(baseline=b, recent=r, change=diff, p_value=None if p is None else round(p, 6),
                       significant=bool(sig))


# --- windows ------------------------------------------------------------------------------------------


def baseline_window(definition: ICPDefinition, recent: Window, baseline: str | None = None) -> Window:
    """The derivation window of the ICP (or `YYYY-MM-DD..YYYY-MM-DD`), cut at the recent window's start."""
    if baseline and baseline.strip().lower() not in ("derivation", "icp"):
        lo, sep, hi = baseline.partition("..")
        try:
            start, end = date.fromisoformat(lo.strip()), date.fromisoformat(hi.strip()) + timedelta(days=1)
        except ValueError:
            start = end = None
        if not sep or start is None or end is None or start >= end:
            raise EngineError("baseline", f"{baseline!r} is not a window",
                              ["derivation", "YYYY-MM-DD..YYYY-MM-DD"])
        return Window(start=start, end=end, as_of=recent.as_of)
    start = definition.closed_from
    end = (definition.closed_to + timedelta(days=1)) if definition.closed_to else recent.as_of
    if recent.start is not None:
        end = min(end, recent.start)
    if start is None:
        start = end - timedelta(days=3 * 365)
    if start >= end:
        start = end - timedelta(days=1)
    return Window(start=start, end=end, as_of=recent.as_of)


# --- SQL ----------------------------------------------------------------------------------------------
#
# Every aggregate is per window. The baseline window (years of deals, against the recent 90 days) is a pure
# function of the archive generation, the definition and the windows and is kept in the one cache; a call
# that finds it there scans only the recent window, one that does not counts both windows in one pass.

STAGES: tuple[str, ...] = ("won", "lost")


@dataclass(frozen=True)
class _Period:
    """A window whose deals are counted: `name` ('recent' | 'baseline'), deals closed in `window` and not in
    `outside` (a deal in both windows counts as recent), attribute values counted for `value_stages`."""

    name: str
    window: Window
    outside: Window | None
    value_stages: tuple[str, ...]

    def col(self, stage: str) -> str:
        return f"{self.name}_{stage}"


@dataclass(frozen=True)
class _Counts:
    """One window's aggregates: (group, stage) → deals; (stage, attribute, value) → deals; the design effects
    ('won' | 'closed' → deals per distinct account); (attribute) → (worked accounts lacking it, worked)."""

    groups: dict[tuple[str, str], int]
    values: dict[tuple[str, str, str], int]
    deff: dict[str, float]
    nulls: dict[str, tuple[int, int]]


def _single_valued(attributes: Iterable[str]) -> dict[str, ColumnElement]:
    """attribute → its value on an `accounts` row (`value_expr`), for the single-valued `attributes`."""
    return {a: e for a in dict.fromkeys(attributes) if (e := value_expr(a)) is not None}


def _per_account(periods: list[_Period], groups: list[tuple[str, Select]], attributes: Iterable[str]) -> Select:
    """One row per account with closed deals (won or lost) in the periods' windows: the one pass over
    opportunities and the one join with `accounts` that the aggregates read.

    Columns: `account_id`; its deals per period and stage (`_Period.col`); its 0/1 group flags `f0…`
    (`groups` order: inside the ICP, each segment); `known` (1 when the account row exists); the
    single-valued attributes' values `v0…` (`_single_valued(attributes)` order); and `m0…`, 1 when the
    account column SINGLE_VALUED[i] is missing.
    """
    o = opportunities.c

    def closed_in(p: _Period) -> ColumnElement[bool]:
        inside = p.window.contains(o.closed_at)
        return inside if p.outside is None else and_(inside, not_(p.outside.contains(o.closed_at)))

    counts = [func.sum(case((and_(closed_in(p), o.stage == s), 1), else_=0)).label(p.col(s))
              for p in periods for s in STAGES]
    per = (
        select(o.account_id, *counts)
        .where(o.stage.in_(list(STAGES)), or_(*(closed_in(p) for p in periods)))
        .group_by(o.account_id)
        .subquery("drift_per_account")
    )
    a = accounts.c
    flags = [case((per.c.account_id.in_(ids), 1), else_=0).label(f"f{i}") for i, (_, ids) in enumerate(groups)]
    values = [e.label(f"v{i}") for i, e in enumerate(_single_valued(attributes).values())]
    missing = [case((a[name].is_(None), 1), else_=0).label(f"m{i}") for i, name in enumerate(SINGLE_VALUED)]
    known = case((a.account_id.is_not(None), 1), else_=0).label("known")
    return (select(per.c.account_id, *(per.c[c.name] for c in counts), *flags, known, *values, *missing)
            .select_from(per.outerjoin(accounts, a.account_id == per.c.account_id)))


def _period_counts(conn: Connection, periods: list[_Period], groups: list[tuple[str, Select]],
                   attributes: list[str]) -> dict[str, _Counts]:
    """Each period's aggregates: the per-account relation filled once (a DuckDB temporary table, a CTE
    elsewhere), then three statements over it."""
    with once(conn, _per_account(periods, groups, attributes), "drift_accounts") as wide:
        counted, values = _counts_and_values(conn, wide, periods, [name for name, _ in groups], attributes)
        stats = _period_stats(conn, wide, periods)
        if TECHNOLOGY in attributes:
            for p, found in _technology_counts(conn, wide, periods).items():
                values[p].update(found)
    return {p.name: _Counts(counted[p.name], values[p.name], *stats[p.name]) for p in periods}


def _counts_and_values(
    conn: Connection, w: FromClause, periods: list[_Period], names: list[str], attributes: Iterable[str]
) -> tuple[dict[str, dict[tuple[str, str], int]], dict[str, dict[tuple[str, str, str], int]]]:
    """One GROUPING SETS statement over the per-account relation, per period: (group, stage) → closed deals
    per group (`names`, flags `f0…`) plus `icp:outside`, and (stage, attribute, value) → deals over the
    deals' accounts' single-valued attribute values (for the period's `value_stages`)."""
    c = w.c
    flags = [c[f"f{i}"] for i in range(len(names))]
    single = list(_single_valued(attributes))
    values = [c[f"v{i}"] for i in range(len(single))]
    cols = [p.col(s) for p in periods for s in STAGES]
    stmt = select(*flags, *values, *(func.grouping(v).label(f"g{i}") for i, v in enumerate(values)),
                  *(func.sum(c[col]).label(col) for col in cols))
    stmt = stmt.group_by(func.grouping_sets(tuple_(*flags), *(tuple_(v) for v in values)))
    groups: dict[str, dict[tuple[str, str], int]] = {p.name: defaultdict(int) for p in periods}
    found: dict[str, dict[tuple[str, str, str], int]] = {p.name: {} for p in periods}
    for row in conn.execute(stmt).mappings():
        by_value = next((i for i in range(len(single)) if row[f"g{i}"] == 0), None)
        for p in periods:
            if by_value is None:  # the groups' set
                for s in STAGES:
                    if not (n := int(row[p.col(s)] or 0)):
                        continue
                    for i, name in enumerate(names):
                        if row[f"f{i}"]:
                            groups[p.name][(name, s)] += n
                    if not row["f0"]:
                        groups[p.name][("icp:outside", s)] += n
            elif row[f"v{by_value}"] is not None:
                for s in p.value_stages:
                    if n := int(row[p.col(s)] or 0):
                        found[p.name][(s, single[by_value], row[f"v{by_value}"])] = n
    return {p: dict(g) for p, g in groups.items()}, found


def _period_stats(conn: Connection, w: FromClause, periods: list[_Period]
                  ) -> dict[str, tuple[dict[str, float], dict[str, tuple[int, int]]]]:
    """Per period, in one statement over the per-account relation: the design effects and the null counts.

    Design effect, 'won' | 'closed' → deals per distinct account (≥ 1): one account's repeat deals are not
    independent evidence; dividing counts by this factor (a first-order Rao–Scott correction) keeps the tests
    from being overconfident. Null counts, attribute → (worked accounts lacking it, worked accounts).
    """
    c = w.c

    def total(expr, name: str):
        return func.coalesce(func.sum(expr), 0).label(name)

    cols = []
    for p in periods:
        won, lost = c[p.col("won")], c[p.col("lost")]
        dealt = won + lost > 0
        worked = and_(dealt, c.known == 1)
        cols += [total(won + lost, f"{p.name}_n"), total(case((dealt, 1), else_=0), f"{p.name}_accts"),
                 total(won, f"{p.name}_n_won"), total(case((won > 0, 1), else_=0), f"{p.name}_won_accts"),
                 total(case((worked, 1), else_=0), f"{p.name}_worked"),
                 *(total(case((and_(worked, c[f"m{i}"] == 1), 1), else_=0), f"{p.name}_m{i}")
                   for i in range(len(SINGLE_VALUED)))]
    row = conn.execute(select(*cols)).mappings().one()
    out: dict[str, tuple[dict[str, float], dict[str, tuple[int, int]]]] = {}
    for p in periods:
        n, accts, n_won, won_accts = (int(row[f"{p.name}_{k}"]) for k in ("n", "accts", "n_won", "won_accts"))
        if not accts:  # no deals in this window
            out[p.name] = ({}, {})
            continue
        deff = {"closed": max(1.0, n / accts), "won": max(1.0, n_won / won_accts) if won_accts else 1.0}
        worked_n = int(row[f"{p.name}_worked"])
        out[p.name] = (deff, {a: (int(row[f"{p.name}_m{i}"]), worked_n) for i, a in enumerate(SINGLE_VALUED)})
    return out


def _technology_counts(conn: Connection, w: FromClause, periods: list[_Period]
                       ) -> dict[str, dict[tuple[str, str, str], int]]:
    """Per period, (stage, 'technology', value) → deals over the deals' accounts' technologies."""
    t = account_technologies.c
    tech = cast(t.technology, String)
    cols = [(p, s) for p in periods for s in p.value_stages]
    stmt = (select(tech, *(func.sum(w.c[p.col(s)]).label(p.col(s)) for p, s in cols))
            .select_from(w.join(account_technologies, t.account_id == w.c.account_id))
            .where(t.technology.is_not(None))
            .group_by(tech))
    found: dict[str, dict[tuple[str, str, str], int]] = {p.name: {} for p in periods}
    for row in conn.execute(stmt):
        for k, (p, s) in enumerate(cols, start=1):
            if n := int(row[k] or 0):
                found[p.name][(s, TECHNOLOGY, row[0])] = n
    return found


def _group_members(definition: ICPDefinition, engine: Engine) -> list[tuple[str, Select]]:
    """(group, selectable of its account ids): inside the ICP and each ICP segment.

    From the stored ICP state when it is current, else materialized once per definition and data
    (engine/questions/cohorts.py caches them), so a check neither rescores nor joins every account.
    """
    inside, _ = icp_ids(engine, definition, "icp", in_icp_selectable(definition, engine))
    groups = [("icp:inside", inside)]
    for seg in definition.segments:
        members, _ = icp_ids(engine, definition, f"segment:{seg.id}", segment_selectable(definition, seg.id))
        groups.append((f"segment:{seg.id}", members))
    return groups


def _overlaps(a: Window, b: Window) -> bool:
    """Whether two half-open windows share a day (a None start is open to the past)."""
    return (a.start is None or a.start < b.end) and (b.start is None or b.start < a.end)


def _both_windows(engine: Engine, definition: ICPDefinition, recent: Window, base: Window,
                  attributes: list[str]) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str, str], int],
                                                  dict[tuple[str, str], float], dict[tuple[str, str], tuple[int, int]]]:
    """The aggregates of both windows keyed by period: (group, period, stage) → deals, (period, stage,
    attribute, value) → deals, (period, 'won' | 'closed') → design effect, (period, attribute) → null counts.

    Summed from the stored drift facts when the stored ICP state is current (`_from_facts`); else counted
    from the deals (`_counted`).
    """
    now = _Period("recent", recent, None, STAGES)
    then = _Period("baseline", base, recent if _overlaps(base, recent) else None, ("won",))  # losses: no check
    by_period = _from_facts(engine, definition, [then, now])
    if by_period is None:
        by_period = _counted(engine, definition, then, now, attributes)
    counted = {(g, p, s): n for p, w in by_period.items() for (g, s), n in w.groups.items()}
    values = {(p, s, a, v): n for p, w in by_period.items() for (s, a, v), n in w.values.items()}
    deff = {(p, k): d for p, w in by_period.items() for k, d in w.deff.items()}
    nulls = {(p, a): m for p, w in by_period.items() for a, m in w.nulls.items()}
    return counted, values, deff, nulls


def _counted(engine: Engine, definition: ICPDefinition, then: _Period, now: _Period,
             attributes: list[str]) -> dict[str, _Counts]:
    """Both windows counted from the deals: the baseline's from the one cache when there (then only the recent
    window is scanned); otherwise both in one pass, and the baseline's kept."""
    groups = _group_members(definition, engine)
    fresh: dict[str, _Counts] = {}

    def baseline() -> _Counts:
        with engine.connect() as conn:
            fresh.update(_period_counts(conn, [then, now], groups, attributes))
        return fresh["baseline"]

    key = ("drift_baseline", state.digest(definition), then.window.start, then.window.end,
           None if then.outside is None else (now.window.start, now.window.end), tuple(attributes))
    by_period = {"baseline": cache.cached(engine, key, baseline)}
    if "recent" in fresh:
        by_period["recent"] = fresh["recent"]
    else:
        with engine.connect() as conn:
            by_period["recent"] = _period_counts(conn, [now], groups, attributes)["recent"]
    return by_period


def _facts_present(engine: Engine) -> bool:
    """Whether the archive has the drift facts table (schema revision 0006; asked once per generation)."""
    def look() -> bool:
        with engine.connect() as conn:
            return inspect(conn).has_table(icp_drift_facts.name)
    return cache.cached(engine, ("drift_facts_table",), look)


def _from_facts(engine: Engine, definition: ICPDefinition, periods: list[_Period]) -> dict[str, _Counts] | None:
    """Both windows summed from the stored drift facts (engine/sql/drift_facts.py), when the stored ICP state
    is current for `definition` and the windows are closed and do not overlap; else None (count the deals)."""
    if any(p.outside is not None or p.window.start is None for p in periods):
        return None
    version = state.account_version(engine, definition)
    if version is None or not _facts_present(engine):
        return None
    windows = {p.name: (p.window.start, p.window.end) for p in periods}
    with engine.connect() as conn:
        found = drift_facts.read(conn, version, windows)
    segments = [s.id for s in definition.segments]
    attrs = set(drift_attributes(definition))
    out = {}
    for p in periods:
        w = found[p.name]
        groups: dict[tuple[str, str], int] = defaultdict(int)
        for (stage, inside, members), n in w.groups.items():
            groups[("icp:inside" if inside else "icp:outside", stage)] += n
            for seg in segments:
                if f",{seg}," in (members or ""):
                    groups[(f"segment:{seg}", stage)] += n
        values = {(st, a, v): n for (st, a, v), n in w.values.items() if st in p.value_stages and a in attrs}
        out[p.name] = _Counts(dict(groups), values, *_facts_stats(w, groups))
    return out


def _facts_stats(w: drift_facts.WindowFacts, groups: dict[tuple[str, str], int]
                 ) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    """`_period_stats` from the facts: design effects and the worked accounts' null counts."""
    accts = sum(n for (cls, _), n in w.firsts.items() if cls == "closed")
    if not accts:
        return {}, {}
    n_won = sum(n for (g, s), n in groups.items() if g in ("icp:inside", "icp:outside") and s == "won")
    n = n_won + sum(n for (g, s), n in groups.items() if g in ("icp:inside", "icp:outside") and s == "lost")
    won_accts = sum(n for (cls, _), n in w.firsts.items() if cls == "won")
    deff = {"closed": max(1.0, n / accts), "won": max(1.0, n_won / won_accts) if won_accts else 1.0}
    known = {mask: n for (cls, mask), n in w.firsts.items() if cls == "closed" and mask >= 0}
    worked = sum(known.values())
    nulls = {a: (sum(n for mask, n in known.items() if mask & (1 << i)), worked)
             for i, a in enumerate(SINGLE_VALUED)}
    return deff, nulls


# --- checks -------------------------------------------------------------------------------------------


def _psi_for(attribute: str, base: dict[str, int], recent: dict[str, int], n_base: int, n_recent: int,
             in_icp: bool, alpha: float, deff: tuple[float, float] = (1.0, 1.0)) -> AttributePSI:
    values = set(base) | set(recent)
    if is_column(attribute):  # an account column: the missing share is a bin too
        base = {**base, MISSING: max(0, n_base - sum(base.values()))}
        recent = {**recent, MISSING: max(0, n_recent - sum(recent.values()))}
        values.add(MISSING)
    # Merge bins too small to test (expected count under MIN_BIN_EXPECTED in the recent window).
    total_b, total_r = sum(base.values()) or 1, sum(recent.values()) or 1
    kept, other_b, other_r = [], 0, 0
    for v in sorted(values):
        b, r = base.get(v, 0), recent.get(v, 0)
        if b / total_b * total_r < MIN_BIN_EXPECTED and r < MIN_BIN_EXPECTED:
            other_b, other_r = other_b + b, other_r + r
        else:
            kept.append((v, b, r))
    if other_b or other_r:
        kept.append((OTHER, other_b, other_r))
    exp = [float(b) for _, b, _ in kept]
    act = [float(r) for _, _, r in kept]
    terms = psi_terms(exp, act)
    value = psi(exp, act) if len(kept) > 1 else 0.0
    p = homogeneity_p([e / deff[0] for e in exp], [a / deff[1] for a in act]) if len(kept) > 1 else None
    sig = p is not None and p < alpha
    level = "shift" if value > PSI_SHIFT and sig else "watch" if value > PSI_WATCH and sig else "stable"
    shifts = [
        ValueShift(value=v, baseline_share=round(b / total_b, 4), recent_share=round(r / total_r, 4),
                   contribution=round(term, 4))
        for (v, b, r), term in zip(kept, terms, strict=True)
    ]
    shifts.sort(key=lambda s: -s.contribution)
    return AttributePSI(attribute=attribute, in_icp=in_icp, psi=round(value, 4), bins=len(kept),
                        chi2_p_value=None if p is None else round(p, 6), significant=sig, level=level,
                        top_values=shifts[:TOP_VALUES])


def _icp_values(definition: ICPDefinition) -> dict[str, set[str]]:
    """Values (case-folded) the ICP rewards: criteria with positive points and segment conditions."""
    out: dict[str, set[str]] = defaultdict(set)
    conds = [c for c in definition.criteria if c.points > 0]
    conds += [c for s in definition.segments for c in s.conditions]
    for c in conds:
        for v in c.accepted():
            out[c.attribute].add(v.casefold())
    return out


def check_drift(
    engine: Engine,
    definition: ICPDefinition,
    *,
    recent: Window,
    baseline: str | None = None,
) -> DriftReport:
    """Compare closed deals of `recent` with the ICP's derivation window; see the module docstring."""
    base = baseline_window(definition, recent, baseline)
    icp_attrs = set(definition.attributes_used())
    attrs = drift_attributes(definition)
    groups, values, deff, nulls = _both_windows(engine, definition, recent, base, attrs)
    wins = {p: groups.get(("icp:inside", p, "won"), 0) + groups.get(("icp:outside", p, "won"), 0)
            for p in ("baseline", "recent")}
    report = {"recent_window": recent.describe(), "baseline_window": base.describe(),
              "recent_wins": wins["recent"], "baseline_wins": wins["baseline"]}
    if wins["recent"] < MIN_WINS or wins["baseline"] < MIN_WINS:
        short = "recent" if wins["recent"] < MIN_WINS else "baseline"
        return DriftReport(
            verdict="insufficient_data", reasons=[], in_icp_share=None, psi=[], attributes_checked=0,
            segments=[], emerging=[],
            data_quality=[], **report,
            summary=f"insufficient data: {count(wins[short])} wins in the {short} window "
                    f"({report[f'{short}_window']}); at least {MIN_WINS} are needed to judge drift.",
        )
    ctx = _Context(
        definition=definition, wins=wins, groups=groups,
        won_deff=(deff.get(("baseline", "won"), 1.0), deff.get(("recent", "won"), 1.0)),
        closed_deff=(deff.get(("baseline", "closed"), 1.0), deff.get(("recent", "closed"), 1.0)),
        icp_attrs=icp_attrs,
    )
    icp_share, r1 = _check_icp_share(ctx)
    dist = _won_distribution(values)
    psis, r2 = _check_psi(ctx, attrs, dist)
    segments, r3 = _check_segments(ctx)
    emerging, r4 = _check_emerging(ctx, values, dist, psis)
    quality, r5 = _check_quality(ctx, nulls)
    reasons = r1 + r2 + r4 + r3 + r5
    verdict: Verdict = "refresh" if any(r.severity == "refresh" for r in reasons) else (
        "watch" if reasons else "stable")
    reasons.sort(key=lambda r: r.severity != "refresh")
    return DriftReport(verdict=verdict, reasons=reasons, in_icp_share=icp_share, psi=psis[:MAX_PSI],
                       attributes_checked=len(psis), segments=segments,
                       emerging=emerging, data_quality=quality, summary=_summary(verdict, reasons, report),
                       **report)


@dataclass
class _Context:
    definition: ICPDefinition
    wins: dict[str, int]
    groups: dict[tuple[str, str, str], int]
    won_deff: tuple[float, float]
    closed_deff: tuple[float, float]
    icp_attrs: set[str]


def _check_icp_share(ctx: _Context) -> tuple[ShareChange, list[Reason]]:
    """Share of wins inside the ICP: refresh on a significant drop of at least MIN_SHARE_DROP."""
    inside = {p: ctx.groups.get(("icp:inside", p, "won"), 0) for p in ("baseline", "recent")}
    got = change((inside["baseline"], ctx.wins["baseline"]), (inside["recent"], ctx.wins["recent"]),
                 ALPHA_REFRESH, drop_only=True, min_move=MIN_SHARE_DROP, deff=ctx.won_deff)
    text = (f"share of wins inside the ICP {pct(got.baseline.rate)} (n = {count(ctx.wins['baseline'])}) "
            f"at derivation vs {pct(got.recent.rate)} (n = {count(ctx.wins['recent'])}) now")
    if got.significant:
        return got, [Reason(severity="refresh", kind="in_icp_share", text=f"{text}: a significant drop")]
    if got.p_value is not None and got.p_value < ALPHA and (got.change or 0) < 0:
        return got, [Reason(severity="watch", kind="in_icp_share", text=f"{text}: a drop, not yet confirmed")]
    return got, []


def _won_distribution(values: dict[tuple[str, str, str, str], int]) -> dict[tuple[str, str], dict[str, int]]:
    dist: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (period, stage, attr, value), n in values.items():
        if stage == "won":
            dist[(period, attr)][value] = n
    return dist


def _moved(x: AttributePSI) -> str:
    return ", ".join(f"{v.value} {pct(v.baseline_share)}→{pct(v.recent_share)}" for v in x.top_values)


def _check_psi(ctx: _Context, attrs: list[str], dist: dict) -> tuple[list[AttributePSI], list[Reason]]:
    """PSI per attribute (`dist`: `_won_distribution`); refresh on a significant shift (> 0.25) of an
    attribute the ICP uses."""
    psis = [
        _psi_for(a, dist.get(("baseline", a), {}), dist.get(("recent", a), {}), ctx.wins["baseline"],
                 ctx.wins["recent"], a in ctx.icp_attrs, ALPHA_PSI / len(attrs), ctx.won_deff)
        for a in attrs
    ]
    psis.sort(key=lambda x: -x.psi)
    reasons = []
    for x in psis:
        tops = [v.value for v in x.top_values if v.contribution > 0.01 and v.value != OTHER]
        if x.level == "shift" and x.in_icp:
            reasons.append(Reason(severity="refresh", kind="psi", attribute=x.attribute, values=tops,
                                  text=f"{x.attribute} shifted among wins (PSI {x.psi:.2f}, "
                                       f"an ICP attribute): {_moved(x)}"))
        elif x.level != "stable" and (x.in_icp or x.level == "shift"):
            reasons.append(Reason(severity="watch", kind="psi", attribute=x.attribute, values=tops,
                                  text=f"{x.attribute} moved among wins (PSI {x.psi:.2f}): {_moved(x)}"))
    return psis, reasons


def _check_segments(ctx: _Context) -> tuple[list[SegmentMove], list[Reason]]:
    """Win rate (won / closed deals) per ICP segment and inside / outside the ICP, baseline vs recent."""
    names = {f"segment:{s.id}": s.name for s in ctx.definition.segments}
    names.update({"icp:inside": "inside the ICP", "icp:outside": "outside the ICP"})
    alpha = ALPHA / max(1, len(names))
    segments, reasons = [], []
    for grp, name in names.items():
        counts = {}
        for p in ("baseline", "recent"):
            won = ctx.groups.get((grp, p, "won"), 0)
            counts[p] = (won, won + ctx.groups.get((grp, p, "lost"), 0))
        move = change(counts["baseline"], counts["recent"], alpha, min_move=MIN_RATE_MOVE,
                      deff=ctx.closed_deff)
        segments.append(SegmentMove(segment=grp, name=name, win_rate=move))
        if move.significant:
            reasons.append(Reason(
                severity="watch", kind="segment", values=[grp],
                text=f"win rate {name} moved from {pct(move.baseline.rate)} (n = {count(counts['baseline'][1])}) "
                     f"to {pct(move.recent.rate)} (n = {count(counts['recent'][1])})"))
    return segments, reasons


def _check_emerging(
    ctx: _Context, values: dict, dist: dict, psis: list[AttributePSI]
) -> tuple[list[EmergingValue], list[Reason]]:
    """Values outside the ICP whose share of wins rose significantly; on an ICP attribute whose distribution
    moved too (PSI > 0.1, chi-square p < ALPHA_CONFIRM) the shift is confirmed: refresh."""
    rewarded = _icp_values(ctx.definition)
    candidates = [
        (a, v) for (p, a), d in dist.items() if p == "recent" and not is_numeric(a) for v in d
    ]
    alpha = ALPHA / max(1, len(candidates))
    nb, nr = ctx.wins["baseline"], ctx.wins["recent"]
    db, dr = ctx.won_deff
    emerging = []
    for attr, value in candidates:
        r = dist[("recent", attr)].get(value, 0)
        b = dist.get(("baseline", attr), {}).get(value, 0)
        if value.casefold() in rewarded.get(attr, set()) or r < MIN_EMERGING_WINS:
            continue
        p = two_proportion_p(b / db, nb / db, r / dr, nr / dr, "greater")
        if p is None or p >= alpha or r / nr - b / nb < MIN_RATE_MOVE:
            continue
        won_r = values.get(("recent", "won", attr, value), 0)
        closed_r = won_r + values.get(("recent", "lost", attr, value), 0)
        emerging.append(EmergingValue(attribute=attr, value=value, baseline_share=round(b / nb, 4),
                                      recent_share=round(r / nr, 4), recent_wins=r,
                                      recent_win_rate=share(won_r, closed_r), p_value=round(p, 8)))
    emerging.sort(key=lambda e: e.p_value)
    by_attr = {x.attribute: x for x in psis}
    reasons = []
    for e in emerging:
        moved = by_attr.get(e.attribute)
        confirmed = (moved is not None and moved.in_icp and moved.psi > PSI_WATCH
                     and moved.chi2_p_value is not None and moved.chi2_p_value < ALPHA_CONFIRM)
        text = (f"{e.attribute} = {e.value} (outside the ICP) rose from {pct(e.baseline_share)} to "
                f"{pct(e.recent_share)} of wins ({count(e.recent_wins)} recent wins, "
                f"win rate {pct(e.recent_win_rate.rate)})")
        if confirmed:
            text += f"; {e.attribute}, an ICP attribute, moved with it (PSI {moved.psi:.2f})"
        reasons.append(Reason(severity="refresh" if confirmed else "watch", kind="emerging",
                              attribute=e.attribute, values=[e.value], text=text))
    return emerging, reasons


def _check_quality(ctx: _Context, nulls: dict[tuple[str, str], tuple[int, int]]) -> tuple[
        list[NullRateChange], list[Reason]]:
    """Null rates of the worked accounts' attributes, baseline vs recent."""
    alpha = ALPHA / len(SINGLE_VALUED)
    quality, reasons = [], []
    for a in SINGLE_VALUED:
        b, r = nulls.get(("baseline", a), (0, 0)), nulls.get(("recent", a), (0, 0))
        move = change(b, r, alpha, min_move=MIN_NULL_MOVE)  # distinct accounts: no design effect
        if move.significant:
            quality.append(NullRateChange(attribute=a, null_rate=move))
            reasons.append(Reason(severity="watch", kind="data_quality", attribute=a,
                                  text=f"{a} is missing on {pct(move.recent.rate)} of recently worked "
                                       f"accounts "
                                       f"vs {pct(move.baseline.rate)} at derivation"))
    return quality, reasons


def _summary(verdict: Verdict, reasons: list[Reason], report: dict) -> str:
    head = (f"{verdict}: {count(report['recent_wins'])} wins in {report['recent_window']} vs "
            f"{count(report['baseline_wins'])} in {report['baseline_window']}")
    if not reasons:
        return head + "; no significant change in who wins."
    return head + "; " + "; ".join(r.text for r in reasons[:3]) + ("; …" if len(reasons) > 3 else "") + "."

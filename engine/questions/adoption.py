"""Feature adoption: who uses a feature, how deeply, and whether adopters retain better — by group.

Eligible accounts are customers (a won deal closed before the window ends) that had not churned (last
positive ARR month) before the window starts. An adopter is an eligible
account with events of the feature inside the window. Per group (segment, tier, in/out of the ICP, size
band or any categorical account column) one GROUP BY gives: eligible `n`, adopters, the adoption rate with
its Wilson 95% interval, depth (events and peak active users per adopter) and retention of adopters vs
non-adopters over the 12 months before the latest ARR month: net revenue retention (ARR now / ARR then,
over accounts with ARR then) and churn (ARR then > 0, now 0) with its interval. Groups with fewer than
`k_min` accounts are flagged `small` (the permissions layer suppresses them for some callers).

Retention is an association, not an effect: accounts that churned early had less time to adopt.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    select,
    inspect,
    union_all,
)

from icp_mcp.archive.schema import accounts, feature_usage, icp_adoption_facts
from icp_mcp.engine.sql.attributes import band_case
from icp_mcp.engine.model.catalogue import CATEGORICAL
from icp_mcp.engine.questions.cohorts import (
    icp_ids, in_icp_selectable, materialize, segment_selectable, tier_selectable,
)
from icp_mcp.engine.model.errors import EngineError, NoActiveICP
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.model.numbers import count, pct
from icp_mcp.engine.model.stats import two_proportion_z, wilson
from icp_mcp.engine.model.windows import Window
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import adoption_sql
from icp_mcp.engine.sql.adoption_sql import DEFAULT_DAYS, OUTSIDE_SEGMENTS
from icp_mcp.engine.sql.cache import cached, count as count_computation

BY_ICP: tuple[str, ...] = ("segment", "tier", "icp")
BY_OPTIONS: tuple[str, ...] = (*BY_ICP, "size_band", *CATEGORICAL)
DEFAULT_K = 5


class RetentionStat(BaseModel):
    """Retention of a set of accounts that had ARR a year before the latest ARR month."""

    n: int = Field(description="accounts with ARR a year ago")
    nrr: float | None = Field(description="ARR now / ARR a year ago, over those accounts")
    churned: int
    churn_rate: float | None
    churn_interval: tuple[float, float] | None = Field(description="Wilson 95% interval of the churn rate")


class AdoptionGroup(BaseModel):
    group: str
    n: int = Field(description="eligible accounts (customers)")
    adopters: int | None
    rate: float | None = Field(description="adopters / n")
    interval: tuple[float, float] | None = Field(description="Wilson 95% interval of the rate")
    events_per_adopter: float | None = Field(description="events in the window per active account")
    active_users_per_adopter: float | None = Field(description="mean peak daily active users per adopter")
    adopters_retention: RetentionStat | None
    non_adopters_retention: RetentionStat | None
    small: bool = Field(description=f"fewer than k accounts (default {DEFAULT_K}): treat with care")
    suppressed: bool = Field(False, description="figures withheld: too few accounts for this caller")

    def suppress(self) -> None:
        """Withhold every figure but the group's size (small-group rule of the permissions layer)."""
        self.adopters = self.rate = self.interval = None
        self.events_per_adopter = self.active_users_per_adopter = None
        self.adopters_retention = self.non_adopters_retention = None
        self.suppressed = True


class AdoptionResult(BaseModel):
    """Adoption per group with Wilson intervals, depth, and retention of adopters vs non-adopters."""

    summary: str
    feature: str
    by: str
    window: str
    retention_months: tuple[str, str] | None = Field(description="retention from, to (ARR months)")
    overall: AdoptionGroup
    groups: list[AdoptionGroup]
    total_groups: int
    highest: str | None = Field(description="among groups of at least k accounts")
    segment_names: dict[str, str] = Field(default_factory=dict, description="segment id → name")
    retains_better: bool | None = None  # adopters churn significantly less / more; None: no clear difference
    paradox: str | None = None  # a within-group result that contradicts the overall one (Simpson's paradox)
    suppressed_groups: int = Field(0, description="groups withheld (under k accounts)")
    next_cursor: str | None = None
    truncated: bool = False


def known_features(conn: Connection) -> list[str]:
    """Features present in `feature_usage`."""
    rows = conn.execute(select(feature_usage.c.feature).distinct().order_by(feature_usage.c.feature))
    return [r for r in rows.scalars() if r]


def check_feature(engine: Engine, feature: str) -> str:
    """The stored spelling of `feature` (case-insensitive) or an error listing the known features.

    A name stored exactly as given is found by a probe that stops at its first row; otherwise the feature
    list is read (cached per generation: a distinct over every usage row is not free at scale) and a miss
    is re-checked against the archive before it becomes an error.
    """
    exact = (feature or "").strip()
    if exact and _stored_as_given(engine, exact):
        return exact
    wanted = exact.casefold()
    listing = select(feature_usage.c.feature).distinct()
    for fresh in (False, True):
        if fresh:
            with engine.connect() as conn:
                features = known_features(conn)
        else:
            features = sorted(f for f in materialize(engine, (), listing, kind="features") if f)
        for f in features:
            if f.casefold() == wanted:
                return f
    raise EngineError("feature", f"unknown feature {feature!r}", features)


def _stored_as_given(engine: Engine, name: str) -> bool:
    """True when some usage row names the feature exactly `name` (one probe per generation and name)."""

    def probe() -> bool:
        with engine.connect() as conn:
            stmt = select(feature_usage.c.feature).where(feature_usage.c.feature == name).limit(1)
            return conn.execute(stmt).first() is not None

    return cached(engine, ("feature_spelling", name), probe)


def check_by(by: str, definition: ICPDefinition | None) -> str:
    """Validate the grouping; the ICP groupings need an active ICP."""
    key = (by or "").strip().lower()
    if key not in BY_OPTIONS:
        raise EngineError("by", f"cannot group by {by!r}", list(BY_OPTIONS))
    if key in BY_ICP and definition is None:
        raise NoActiveICP(f"grouping by {key} needs an active ICP; derive one and activate it first")
    if key == "segment" and definition is not None and not definition.segments:
        raise EngineError("by", "the active ICP has no segments", [o for o in BY_OPTIONS if o != "segment"])
    return key


def group_selectable(engine: Engine, by: str, definition: ICPDefinition | None) -> Select:
    """`account_id, grp` for every account (an account may sit in several segments).

    ICP groupings read the ICP's tiers and segment members materialized once per definition and data
    (engine/cohorts.py), so a repeated question does not rescore every account.
    """
    a = accounts.c
    if by in BY_ICP:
        assert definition is not None

        def members(name: str, ids: Select) -> ColumnElement[bool]:
            return a.account_id.in_(icp_ids(engine, definition, name, ids)[0])

        if by == "segment":
            stored = _stored_segments(engine, definition)
            if stored is not None:
                return stored
            parts = [
                select(a.account_id, literal(seg.id, String).label("grp")).where(
                    members(f"segment:{seg.id}", segment_selectable(definition, seg.id)))
                for seg in definition.segments
            ]
            seg_members = union_all(*parts).subquery("seg_members")
            outside = select(a.account_id, literal(OUTSIDE_SEGMENTS, String).label("grp")).where(
                a.account_id.not_in(select(seg_members.c.account_id))
            )
            return union_all(select(seg_members.c.account_id, seg_members.c.grp), outside).subquery(
                "groups").select()
        if by == "icp":
            inside = members("icp", in_icp_selectable(definition, engine))
            return select(a.account_id, case((inside, "inside ICP"), else_="outside ICP").label("grp"))
        whens = [(members(f"tier:{[t]}", tier_selectable(definition, [t], engine)), t) for t in "ABC"]
        return select(a.account_id, case(*whens, else_="D").label("grp"))
    if by == "size_band":
        return select(a.account_id, func.coalesce(band_case("employees"), "(unknown)").label("grp"))
    return select(a.account_id, func.coalesce(cast(accounts.c[by], String), "(unknown)").label("grp"))


def _stored_segments(engine: Engine, definition: ICPDefinition) -> Select | None:
    """`account_id, grp` per segment membership and `(no segment)`, read from the stored ICP state in one
    scan of it when the state is current; else None."""
    version = state.account_version(engine, definition)
    if version is None:
        return None
    return adoption_sql.stored_segment_groups(version, [seg.id for seg in definition.segments])


def _adoption_rows(engine: Engine, feature: str, by: str, window: Window, definition: ICPDefinition | None
                   ) -> tuple[tuple[date, date] | None, list[dict]]:
    """The retention months and the per-group sums (overall first flagged `is_overall`), computed once per
    archive generation for these arguments (engine cache): a pure function of the data, the feature, the
    grouping, the window and, for the ICP groupings, the definition. The default window by an ICP grouping
    is read from the stored ICP state when it is current (`adoption_sql.store` computed the same sums)."""

    def compute() -> tuple[tuple[date, date] | None, list[dict]]:
        stored = _stored_rows(engine, feature, by, window, definition)
        if stored is not None:
            return stored
        grouping = group_selectable(engine, by, definition)
        with engine.connect() as conn:
            months = adoption_sql.retention_months(conn, window.last_day)
            per = adoption_sql.per_account(feature, window, months).cte("adopt_per_account")
            overall_q = adoption_sql.aggregates(per, None).add_columns(literal(1).label("is_overall"))
            groups_q = adoption_sql.aggregates(per, grouping).add_columns(literal(0).label("is_overall"))
            return months, [dict(r) for r in conn.execute(union_all(overall_q, groups_q)).mappings()]

    icp = definition.model_dump_json() if by in BY_ICP and definition is not None else None
    return cached(engine, ("adoption_rows", feature, by, window.start, window.end, icp), compute)


def _stored_rows(engine: Engine, feature: str, by: str, window: Window, definition: ICPDefinition | None
                 ) -> tuple[tuple[date, date] | None, list[dict]] | None:
    """The stored sums of `feature` by an ICP grouping for the stored (default) window, when the state is
    current for `definition` and holds them; else None (compute)."""
    if by not in adoption_sql.STORED_BY or definition is None or window.start is None:
        return None
    version = state.account_version(engine, definition)
    if version is None:
        return None
    with engine.connect() as conn:
        if not inspect(conn).has_table(icp_adoption_facts.name):  # an archive before revision 0008
            return None
        found = adoption_sql.read(conn, version, feature, by, window)
    if found is not None:
        count_computation("adoption_stored")
    return found


def _retention(row, flag: int) -> RetentionStat:
    n = int(row[f"had_{flag}"])
    then = float(row[f"then_{flag}"] or 0)
    churned = int(row[f"churned_{flag}"])
    return RetentionStat(
        n=n,
        nrr=round(float(row[f"now_{flag}"] or 0) / then, 4) if then > 0 else None,
        churned=churned,
        churn_rate=round(churned / n, 4) if n else None,
        churn_interval=tuple(round(x, 4) for x in wilson(churned, n)) if n else None,
    )


def _group(row, k_min: int, names: dict[str, str] | None = None) -> AdoptionGroup:
    n, adopters = int(row["n"]), int(row["adopters"])
    key = str(row["grp"])
    return AdoptionGroup(
        group=(names or {}).get(key, key),
        n=n,
        adopters=adopters,
        rate=round(adopters / n, 4) if n else None,
        interval=tuple(round(x, 4) for x in wilson(adopters, n)) if n else None,
        events_per_adopter=round(float(row["events"]) / adopters, 2) if adopters else None,
        active_users_per_adopter=round(float(row["users"]), 2) if row["users"] is not None else None,
        adopters_retention=_retention(row, 1),
        non_adopters_retention=_retention(row, 0),
        small=n < k_min,
    )


def feature_adoption(
    engine: Engine,
    *,
    feature: str,
    by: str = "segment",
    window: Window,
    definition: ICPDefinition | None = None,
    k_min: int = DEFAULT_K,
    limit: int = 20,
    offset: int = 0,
) -> AdoptionResult:
    """Adoption of `feature` among customers, grouped by `by`, with depth and retention association."""
    feature = check_feature(engine, feature)
    by = check_by(by, definition)
    months, rows = _adoption_rows(engine, feature, by, window, definition)
    names = _segment_names(definition) if by == "segment" else None
    overall = _group(next(r for r in rows if r["is_overall"] == 1), k_min)
    per_group = [r for r in rows if r["is_overall"] != 1]
    groups = sorted((_group(r, k_min, names) for r in per_group), key=lambda g: (-(g.rate or 0), -g.n, g.group))
    ranked = [g for g in groups if not g.small and g.rate is not None]
    highest = ranked[0].group if ranked else None
    span = window.describe()
    overlap = sum(g.n for g in groups) - overall.n
    verdict, retention_text = _retention_answer(overall)
    paradox = _paradox(overall, [g for g in groups if not g.small], by) if verdict is not None else None
    summary = f"{feature}: {count(overall.adopters)} of {count(overall.n)} customers adopted ({pct(overall.rate)}) in {span}"
    if ranked:
        summary += f"; highest adoption in {by} {highest} ({pct(ranked[0].rate)}, n = {count(ranked[0].n)})"
    summary += f". {retention_text}"
    if paradox:
        summary += f" But within {by} groups the gap reverses or mostly vanishes (Simpson's paradox; see paradox)."
    if overlap > 0:
        summary += (f" Groups overlap: their n add up to {count(overall.n + overlap)} over {count(overall.n)} "
                    "customers.")
    return AdoptionResult(
        feature=feature,
        by=by,
        window=span,
        retention_months=(months[0].isoformat(), months[1].isoformat()) if months else None,
        overall=overall,
        groups=groups[offset: offset + limit],
        total_groups=len(groups),
        highest=highest,
        segment_names=names or {},
        summary=summary,
        retains_better=verdict,
        paradox=paradox,
    )


def _segment_names(definition: ICPDefinition | None) -> dict[str, str]:
    """Segment id → its business name (made unique), for group labels."""
    out: dict[str, str] = {}
    for seg in (definition.segments if definition else []):
        name = seg.name or seg.id
        out[seg.id] = name if name not in out.values() else f"{name} ({seg.id})"
    return out


def _churn_gap(g: AdoptionGroup) -> tuple[float, float, float | None] | None:
    """(adopters' churn, non-adopters' churn, z of their difference) of a group, None without both sides."""
    a, o = g.adopters_retention, g.non_adopters_retention
    if a is None or o is None or not a.n or not o.n:
        return None
    return a.churn_rate or 0.0, o.churn_rate or 0.0, two_proportion_z(o.churned, o.n, a.churned, a.n)


def _retention_answer(overall: AdoptionGroup) -> tuple[bool | None, str]:
    """Do adopters retain better? A two-proportion test of churn over the retention year."""
    gap = _churn_gap(overall)
    if gap is None:
        return None, "Retention: not enough ARR history to compare adopters with non-adopters."
    a_churn, o_churn, z = gap
    a, o = overall.adopters_retention, overall.non_adopters_retention
    nrr = (f"; NRR {pct(a.nrr)} vs {pct(o.nrr)}" if a.nrr is not None and o.nrr is not None else "")
    facts = (f"{pct(a_churn)} of adopters churned vs {pct(o_churn)} of non-adopters over 12 months "
             f"(n = {count(a.n)} vs {count(o.n)}{nrr})")
    if z is not None and abs(z) >= 1.96:
        better = z > 0
        return better, f"Do adopters retain better? {'Yes' if better else 'No, worse'}: {facts}."
    return None, f"Do adopters retain better? No clear difference: {facts}."


def _paradox(overall: AdoptionGroup, groups: list[AdoptionGroup], by: str) -> str | None:
    """Simpson's paradox check: the overall churn gap reverses, or mostly vanishes, inside groups."""
    gap = _churn_gap(overall)
    if gap is None:
        return None
    overall_diff = gap[1] - gap[0]
    flagged = []
    for g in groups:
        inner = _churn_gap(g)
        if inner is None or g.adopters_retention.n < 5 or g.non_adopters_retention.n < 5:
            continue
        diff = inner[1] - inner[0]
        if diff * overall_diff < 0 or abs(diff) < abs(overall_diff) / 2:
            flagged.append((g, inner))
    if not flagged:
        return None
    shown = "; ".join(f"{g.group[:40]}: {pct(i[0])} vs {pct(i[1])}" for g, i in flagged[:3])
    return (f"Overall {pct(gap[0])} vs {pct(gap[1])} churn, but within {len(flagged)} {by} group(s) the gap "
            f"reverses or mostly vanishes ({shown}): who adopts, not the feature, may explain the overall "
            "result (Simpson's paradox).")


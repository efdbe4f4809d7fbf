"""feature_adoption's SQL: one row per customer (adopter flag, events, peak users, ARR then and now), the
per-group sums over them, and those sums kept in the stored ICP state (`icp_adoption_facts`).

Computing adoption groups a year of one feature's usage rows (~3.3M at 1M accounts, stored in account order,
so no range of them can be skipped) and joins every customer's deals and ARR months: ~2.5 s at L. Most
questions are the default one (the last 365 days, by segment, tier or ICP), so `store` computes those sums for
every feature and ICP grouping once per state build (one pass over the window's usage for all features) and
`read` gives them back for a window equal to the stored one. Other windows and groupings, or a state that is
not current, compute (`per_account` + `aggregates`): the same statements, so the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import (
    Connection, Date, Float, FromClause, Integer, Select, String, and_, case, cast, func, insert, literal, select,
    true, union_all,
)

from icp_mcp.archive.schema import arr_snapshots, feature_usage, icp_account_state, icp_adoption_facts, opportunities
from icp_mcp.engine.model.profile import IN_ICP_TIERS, ICPDefinition
from icp_mcp.engine.model.windows import Window, resolve_window
from icp_mcp.engine.sql import temp

#: The default window of an adoption question (days up to `as_of`), the one the stored state keeps.
DEFAULT_DAYS = 365
RETENTION_MONTHS = 12
OUTSIDE_SEGMENTS = "(no segment)"
#: Groupings the stored state keeps (the ones that read the ICP state): segment, tier, in/out of the ICP.
STORED_BY: tuple[str, ...] = ("segment", "tier", "icp")
#: The per-group sums, in `icp_adoption_facts`' order (after grp).
SUMS: tuple[str, ...] = ("n", "adopters", "events", "users", "had_0", "had_1", "then_0", "then_1", "now_0",
                         "now_1", "churned_0", "churned_1")

Months = tuple[date, date] | None  # the retention months (a year before the latest ARR month, that month)


def default_window(as_of: date) -> Window:
    """The default adoption window: the last DEFAULT_DAYS days up to `as_of`."""
    return resolve_window(f"{DEFAULT_DAYS}d", None, as_of)


def retention_months(conn: Connection, as_of: date) -> Months:
    """(the month RETENTION_MONTHS before the latest ARR month up to `as_of`, that month), or None."""
    month = arr_snapshots.c.month
    latest = conn.execute(select(func.max(month)).where(month <= as_of)).scalar()
    if latest is None:
        return None
    total = latest.year * 12 + latest.month - 1 - RETENTION_MONTHS
    return date(total // 12, total % 12 + 1, min(latest.day, 28)), latest


def per_account(feature: str | None, window: Window, months: Months) -> Select:
    """One row per customer: adopter flag, events, peak users, ARR then and now; for every feature (a
    `feature` column first, one row per (feature, customer)) when `feature` is None."""
    u = feature_usage.c
    keys = [u.account_id] if feature is not None else [u.feature, u.account_id]
    where = [window.contains(u.day)] if feature is None else [u.feature == feature, window.contains(u.day)]
    usage = (
        select(*keys, func.sum(u.events).label("events"), func.max(u.active_users).label("users"))
        .where(*where)
        .group_by(*keys)
        .having(func.sum(u.events) > 0)
        .subquery("usage")
    )
    won = select(opportunities.c.account_id).where(
        opportunities.c.stage == "won", opportunities.c.closed_at < window.end
    )
    if window.start is not None:  # customers gone before the window could not adopt in it
        s = arr_snapshots.c
        gone = (
            select(s.account_id)
            .group_by(s.account_id)
            .having(func.coalesce(func.max(case((s.arr > 0, s.month))), literal(date.min)) < window.start)
        )
        won = won.where(opportunities.c.account_id.not_in(gone))
    customers = won.distinct().subquery("customers")
    on = usage.c.account_id == customers.c.account_id
    lead: list = []
    base: FromClause = customers
    if feature is None:  # every customer once per feature
        names = select(u.feature).distinct().subquery("features")
        base = customers.join(names, true())
        on = and_(on, usage.c.feature == names.c.feature)
        lead = [names.c.feature]
    cols = [
        *lead,
        customers.c.account_id,
        case((usage.c.account_id.is_not(None), 1), else_=0).label("adopter"),
        usage.c.events,
        usage.c.users,
    ]
    joined = base.outerjoin(usage, on)
    if months is None:
        none = cast(literal(None), Float)
        return select(*cols, none.label("arr_then"), none.label("arr_now")).select_from(joined)
    then_m, now_m = months
    s = arr_snapshots.c
    arr = (
        select(
            s.account_id,
            func.sum(case((s.month == then_m, s.arr), else_=0)).label("arr_then"),
            func.sum(case((s.month == now_m, s.arr), else_=0)).label("arr_now"),
        )
        .where(s.month.in_([then_m, now_m]))
        .group_by(s.account_id)
        .subquery("arr")
    )
    return select(*cols, arr.c.arr_then, arr.c.arr_now).select_from(
        joined.outerjoin(arr, arr.c.account_id == customers.c.account_id)
    )


def aggregates(p, groups: Select | None) -> Select:
    """Per-group (or overall, `grp` = 'all') sums over the per-account rows `p` (a CTE)."""
    if groups is None:
        return sums(p, literal("all", String).label("grp"), p, [])
    g = groups.subquery("grp_of")
    return sums(p, g.c.grp, p.join(g, g.c.account_id == p.c.account_id), [g.c.grp])


def sums(p, grp, src, keys: list) -> Select:
    """The SUMS of the per-account rows `p` read from `src`, labelled `grp`, grouped by `keys` (none: one
    row)."""
    had = and_(p.c.arr_then.is_not(None), p.c.arr_then > 0)
    churned = and_(had, func.coalesce(p.c.arr_now, 0) <= 0)

    def split(flag: int, what: str, expr) -> object:
        return func.coalesce(func.sum(case((and_(p.c.adopter == flag, had), expr), else_=0)), 0).label(
            f"{what}_{flag}"
        )

    stmt = select(
        grp,
        func.count().label("n"),
        func.coalesce(func.sum(p.c.adopter), 0).label("adopters"),
        func.coalesce(func.sum(p.c.events), 0).label("events"),
        func.avg(p.c.users).label("users"),
        *(split(f, "had", 1) for f in (0, 1)),
        *(split(f, "then", p.c.arr_then) for f in (0, 1)),
        *(split(f, "now", func.coalesce(p.c.arr_now, 0)) for f in (0, 1)),
        *(split(f, "churned", case((churned, 1), else_=0)) for f in (0, 1)),
    ).select_from(src)
    return stmt.group_by(*keys) if keys else stmt


def stored_segment_groups(version: int, segment_ids: Sequence[str]) -> Select:
    """`account_id, grp` per segment membership and `(no segment)`, from the stored ICP state in one scan of
    it (one row per account, segments as ",s1,s2,")."""
    s = icp_account_state.c
    one = select(s.account_id, s.segments).where(s.version == version).subquery("seg_state")
    return _segment_rows(one, [one.c.account_id], segment_ids).subquery("groups").select()


def _segment_rows(rows, columns: list, segment_ids: Sequence[str]) -> Select:
    """`columns` plus `grp` for each segment a row of `rows` (with a `segments` ",s1,s2," column) is in, and
    `(no segment)` for a row in none of them (UNION ALL of one filtered select per segment)."""
    parts = [select(*columns, literal(seg, String).label("grp"))
             .where(rows.c.segments.contains(f",{seg},", autoescape=True)) for seg in segment_ids]
    parts.append(select(*columns, literal(OUTSIDE_SEGMENTS, String).label("grp")).where(rows.c.segments == ","))
    return union_all(*parts)


def _state_groups(rows, by: str, segment_ids: Sequence[str]) -> tuple:
    """(source, grp): the per-(feature, customer) rows `rows` (with the stored tier and segments) as the
    grouping `by` sees them, and their group column (the groups `stored_segment_groups` and the tiers give)."""
    if by == "segment":
        sub = _segment_rows(rows, list(rows.c), segment_ids).subquery("by_segment")
        return sub, sub.c.grp
    sub = select(rows).where(rows.c.tier.is_not(None)).subquery(f"by_{by}")
    grp = sub.c.tier if by == "tier" else case(
        (sub.c.tier.in_(list(IN_ICP_TIERS)), "inside ICP"), else_="outside ICP")
    return sub, grp.label("grp")


def store(conn: Connection, definition: ICPDefinition, version: int, as_of: date) -> None:
    """Fill `icp_adoption_facts` for `version` (the caller cleared the table): every feature's sums for the
    default window ending on `as_of`, overall and per STORED_BY grouping (segment only when the ICP has
    segments), as `aggregates` gives them over the groups the stored state gives. The
    per-(feature, customer) rows are computed once with each customer's stored tier and segments (a temporary
    table on DuckDB); each grouping then groups them without a join."""
    window = default_window(as_of)
    months = retention_months(conn, window.last_day)
    fixed = [literal(version, Integer).label("version"), literal(window.start, Date).label("window_start"),
             literal(window.end, Date).label("window_end"),
             cast(literal(months[0] if months else None), Date).label("then_month"),
             cast(literal(months[1] if months else None), Date).label("now_month")]
    names = ["version", "window_start", "window_end", "then_month", "now_month", "by", "is_overall", "grp", *SUMS,
             "feature"]
    segment_ids = [seg.id for seg in definition.segments]
    per = per_account(None, window, months).subquery("per")
    s = icp_account_state.c
    placed = select(per, s.tier, s.segments).select_from(
        per.outerjoin(icp_account_state, and_(s.account_id == per.c.account_id, s.version == version)))
    with temp.once(conn, placed, "adopt_facts") as rows:
        overall = sums(rows, literal("all", String).label("grp"), rows, [rows.c.feature]).add_columns(rows.c.feature)
        for by in STORED_BY:
            if by == "segment" and not segment_ids:
                continue
            src, grp = _state_groups(rows, by, segment_ids)
            grouped = sums(src, grp, src, [src.c.feature, grp]).add_columns(src.c.feature)
            tag = literal(by, String).label("by")
            sel = union_all(*(select(*fixed, tag, literal(flag, Integer).label("is_overall"), *sub.c)
                              for flag, sub in ((1, overall.subquery("o")), (0, grouped.subquery("g")))))
            conn.execute(insert(icp_adoption_facts).from_select(names, sel))


def read(conn: Connection, version: int, feature: str, by: str, window: Window) -> tuple[Months, list[dict]] | None:
    """The stored retention months and per-group sums (overall first, flagged `is_overall`) of `feature` by
    `by` for `window`, as the computed statement gives them; None when the state holds no such window."""
    f = icp_adoption_facts.c
    if window.start is None or by not in STORED_BY:
        return None
    stmt = (select(f.then_month, f.now_month, f.is_overall, f.grp, *(f[c] for c in SUMS))
            .where(f.version == version, f.feature == feature, f.by == by, f.window_start == window.start,
                   f.window_end == window.end)
            .order_by(f.is_overall.desc(), f.grp))
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    if not any(r["is_overall"] == 1 for r in rows):
        return None
    first = rows[0]
    months = (first["then_month"], first["now_month"]) if first["then_month"] is not None else None
    for r in rows:
        del r["then_month"], r["now_month"]
    return months, rows


__all__ = ["DEFAULT_DAYS", "OUTSIDE_SEGMENTS", "RETENTION_MONTHS", "STORED_BY", "SUMS", "aggregates",
           "default_window", "per_account", "read", "retention_months", "store", "stored_segment_groups", "sums"]

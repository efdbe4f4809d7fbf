"""Conditions as SQL: a VALUES table of (key, attribute, value, lo, hi, points) joined to the attribute relation.

Scoring, segment membership, disqualifier hits and cohort filters all ask "which accounts satisfy which
condition"; this module answers it in one join so that every caller gets the same semantics as
`Condition.matches` (categorical values compared case-insensitively, ranges as `[min, max)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Float, Integer, Select, String, and_, column, func, literal, select, union_all, values

from icp_mcp.engine.sql.attributes import attribute_relation
from icp_mcp.engine.model.profile import Condition

Keyed = tuple[str, Condition, int]

_LOW, _HIGH = -1e300, 1e300


def condition_table(keyed: Sequence[Keyed]):
    """A VALUES table with one row per accepted value (or one per range) of each keyed condition.

    No NULLs: PostgreSQL types a VALUES column from its first row, and an untyped NULL would make it text.
    """
    rows = []
    for key, cond, pts in keyed:
        if cond.range is not None:
            lo = cond.range.min if cond.range.min is not None else _LOW
            hi = cond.range.max if cond.range.max is not None else _HIGH
            rows.append((key, cond.attribute, "", float(lo), float(hi), 1, int(pts)))
        else:
            for v in cond.accepted():
                rows.append((key, cond.attribute, v.lower(), _LOW, _HIGH, 0, int(pts)))
    return values(
        column("key", String), column("attribute", String), column("value", String),
        column("lo", Float), column("hi", Float), column("is_range", Integer), column("points", Integer),
        name="conds",
    ).data(rows)


def matches_query(
    keyed: Sequence[Keyed],
    *,
    closed_before: date | None = None,
    as_of: datetime | None = None,
    trigger_window_days: int = 90,
    account_ids: Sequence[str] | None = None,
    distinct: bool = True,
) -> Select:
    """DISTINCT (account_id, key, points) for every account satisfying each keyed condition.

    `distinct=False` leaves duplicates in (an account using one tool twice, a signal kind seen twice) for
    callers that fold them anyway (a max per account): the DISTINCT is a hash over every matched row."""
    if not keyed:
        return select(literal("", String).label("account_id"), literal("", String).label("key"),
                      literal(0, Integer).label("points")).where(literal(False))
    opts = {"closed_before": closed_before, "as_of": as_of, "trigger_window_days": trigger_window_days,
            "account_ids": account_ids}
    parts = []
    exact = [k for k in keyed if k[1].range is None]
    ranged = [k for k in keyed if k[1].range is not None]
    if exact:  # a hash join on (attribute, lower(value))
        rel = attribute_relation([c.attribute for _, c, _ in exact], **opts).subquery("rel_exact")
        conds = condition_table(exact)
        parts.append(select(rel.c.account_id, conds.c.key, conds.c.points).select_from(rel.join(
            conds, and_(rel.c.attribute == conds.c.attribute, func.lower(rel.c.value) == conds.c.value))))
    if ranged:  # a range join on (attribute, num)
        rel = attribute_relation([c.attribute for _, c, _ in ranged], **opts).subquery("rel_range")
        conds = condition_table(ranged)
        parts.append(select(rel.c.account_id, conds.c.key, conds.c.points).select_from(rel.join(
            conds, and_(rel.c.attribute == conds.c.attribute, rel.c.num >= conds.c.lo, rel.c.num < conds.c.hi))))
    if len(parts) == 1:
        return parts[0].distinct() if distinct else parts[0]
    both = union_all(*parts).subquery("matched")
    out = select(both.c.account_id, both.c.key, both.c.points)
    return out.distinct() if distinct else out


def members_query(conditions: Sequence[Condition], **kwargs) -> Select:
    """account_id of every account satisfying all `conditions` (a segment)."""
    keyed = [(str(i), c, 0) for i, c in enumerate(conditions)]
    m = matches_query(keyed, **kwargs).subquery("m")
    return (
        select(m.c.account_id)
        .group_by(m.c.account_id)
        .having(func.count(func.distinct(m.c.key)) == len(conditions))
    )

"""What check_drift counts, kept per closed day in the stored ICP state (`icp_drift_facts`).

A drift check counts two windows of closed deals: per ICP group and stage, per attribute value and stage, and
the distinct accounts behind them (design effects, null rates). Counting them from the deals joins every
closed deal's account (~700k accounts at 1M) on every call; per closed day they are a range sum over a few
hundred thousand small rows. Distinct accounts are a range sum too: an account has a deal in the window
[s, e) exactly once as "a deal in [s, e) whose account's previous deal is before s (or none)" (previous in
(closed_at, opportunity_id) order, so two deals on one day count once), so each deal is kept with the day of
its account's previous deal (`prev_on`), per class ('closed': won or lost; 'won') and by the account's
missing-column bit mask (null rates of worked accounts).

`store` fills the table for the stored version (INSERT … SELECT, three statements); `read` sums it for two
non-overlapping windows in one statement. The group flags come from `icp_account_state` (tiers, segments), the
same rows the computed check reads when the state is current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    Connection, Date, Integer, String, and_, case, cast, func, insert, literal, null, or_, select, tuple_,
)

from icp_mcp.archive.schema import account_technologies, accounts, icp_account_state, icp_drift_facts, opportunities
from icp_mcp.engine.model.catalogue import CATEGORICAL, NUMERIC, TECHNOLOGY, TRIGGER
from icp_mcp.engine.model.profile import IN_ICP_TIERS, ICPDefinition
from icp_mcp.engine.sql.attributes import value_expr

STAGES: tuple[str, ...] = ("won", "lost")
#: Attributes compared between the windows: the catalogue's single-valued columns and technology.
DRIFT_ATTRIBUTES: tuple[str, ...] = (*CATEGORICAL, *NUMERIC, TECHNOLOGY)
#: The account columns whose null rates are compared.
SINGLE_VALUED: tuple[str, ...] = (*CATEGORICAL, *NUMERIC)


def drift_attributes(definition: ICPDefinition) -> list[str]:
    """The attributes a drift check of `definition` compares: DRIFT_ATTRIBUTES and those the ICP uses."""
    return list(dict.fromkeys([*DRIFT_ATTRIBUTES, *(a for a in definition.attributes_used() if a != TRIGGER)]))


@dataclass
class WindowFacts:
    """One window's sums: (stage, inside, segments) → deals; (stage, attribute, value) → deals; (class, mask) →
    distinct accounts ('closed' | 'won'; mask -1: no account row)."""

    groups: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    values: dict[tuple[str, str, str], int] = field(default_factory=dict)
    firsts: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))


def _closed() -> list:
    o = opportunities.c
    return [o.stage.in_(list(STAGES)), o.closed_at.is_not(None)]


def _row(kind: str, closed_on, stage, *, inside=None, segments=None, key=None, value=None, prev_on=None,
         mask=None, deals) -> list:
    """The columns of one `icp_drift_facts` select, in table order (after version)."""
    return [literal(kind, String).label("kind"), closed_on.label("closed_on"), stage.label("stage"),
            (inside if inside is not None else cast(null(), Integer)).label("inside"),
            (segments if segments is not None else cast(null(), String)).label("segments"),
            (key if key is not None else cast(null(), String)).label("key"),
            (value if value is not None else cast(null(), String)).label("value"),
            (prev_on if prev_on is not None else cast(null(), Date)).label("prev_on"),
            (mask if mask is not None else cast(null(), Integer)).label("mask"), deals.label("deals")]


def group_query(version: int, version_col, in_icp_tiers: Sequence[str]):
    """Closed deals per day and stage by the account's ICP place (inside, segments) under `version`."""
    o, s = opportunities.c, icp_account_state.c
    state = select(s.account_id, s.tier, s.segments).where(s.version == version).subquery("st")
    inside = case((state.c.tier.in_(list(in_icp_tiers)), 1), else_=0)
    segments = func.coalesce(state.c.segments, literal(",", String))
    return (select(version_col, *_row("group", o.closed_at, o.stage, inside=inside, segments=segments,
                                      deals=func.count()))
            .select_from(opportunities.outerjoin(state, state.c.account_id == o.account_id))
            .where(*_closed())
            .group_by(o.closed_at, o.stage, inside, segments))


def value_queries(version_col, attributes: Sequence[str]) -> list:
    """Closed deals per day and stage by each attribute's value: one GROUPING SETS statement over the
    single-valued attributes (band labels for numbers, as `value_expr` gives them), one for technologies."""
    o, t = opportunities.c, account_technologies.c
    single = {a: e for a in dict.fromkeys(attributes) if (e := value_expr(a)) is not None}
    out = []
    if single:
        names = list(single)
        per = (select(o.closed_at, o.stage, *(e.label(f"v{i}") for i, e in enumerate(single.values())))
               .select_from(opportunities.join(accounts, accounts.c.account_id == o.account_id))
               .where(*_closed()).subquery("deal_values"))
        vs = [per.c[f"v{i}"] for i in range(len(names))]
        grouped = (select(per.c.closed_at, per.c.stage, *vs,
                          *(func.grouping(v).label(f"g{i}") for i, v in enumerate(vs)), func.count().label("n"))
                   .group_by(func.grouping_sets(*(tuple_(per.c.closed_at, per.c.stage, v) for v in vs)))
                   .subquery("value_sets"))
        g = grouped.c
        key = case(*((g[f"g{i}"] == 0, literal(name, String)) for i, name in enumerate(names)))
        value = case(*((g[f"g{i}"] == 0, g[f"v{i}"]) for i in range(len(names))))
        has_value = or_(*(and_(g[f"g{i}"] == 0, g[f"v{i}"].is_not(None)) for i in range(len(names))))
        out.append(select(version_col, *_row("value", g.closed_at, g.stage, key=key, value=value, deals=g.n))
                   .where(has_value))
    if TECHNOLOGY in attributes:
        tech = cast(t.technology, String)
        out.append(select(version_col, *_row("value", o.closed_at, o.stage, key=literal(TECHNOLOGY, String),
                                             value=tech, deals=func.count()))
                   .select_from(opportunities.join(account_technologies, t.account_id == o.account_id))
                   .where(*_closed(), t.technology.is_not(None))
                   .group_by(o.closed_at, o.stage, tech))
    return out


def first_queries(version_col, columns: Sequence[str]) -> list:
    """Per class ('closed', 'won'): deals per day by the day of the account's previous deal of that class and
    the account's missing-column mask (bit i: `columns[i]` is NULL; -1: no account row)."""
    o, a = opportunities.c, accounts.c
    mask = case((a.account_id.is_(None), -1), else_=sum(
        (case((a[name].is_(None), 1 << i), else_=0) for i, name in enumerate(columns)), literal(0, Integer)))
    out = []
    for cls, where in (("closed", _closed()), ("won", [o.stage == "won", o.closed_at.is_not(None)])):
        prev = func.lag(o.closed_at).over(partition_by=o.account_id, order_by=(o.closed_at, o.opportunity_id))
        deals = (select(o.account_id, o.closed_at, prev.label("prev_on")).where(*where)
                 .subquery(f"deals_{cls}"))
        m = mask.label("mask")
        joined = (select(deals.c.closed_at, deals.c.prev_on, m)
                  .select_from(deals.outerjoin(accounts, a.account_id == deals.c.account_id)).subquery(f"f_{cls}"))
        f = joined.c
        out.append(select(version_col, *_row("first", f.closed_at, literal(cls, String), prev_on=f.prev_on,
                                             mask=f.mask, deals=func.count()))
                   .group_by(f.closed_at, f.prev_on, f.mask))
    return out


def store(conn: Connection, definition: ICPDefinition, version: int) -> None:
    """Fill `icp_drift_facts` for `version` (stored with `definition`; the caller cleared the table)."""
    version_col = literal(version, Integer).label("version")
    attributes = drift_attributes(definition)
    names = ["version", "kind", "closed_on", "stage", "inside", "segments", "key", "value", "prev_on", "mask",
             "deals"]
    for sel in [group_query(version, version_col, IN_ICP_TIERS), *value_queries(version_col, attributes),
                *first_queries(version_col, SINGLE_VALUED)]:
        conn.execute(insert(icp_drift_facts).from_select(names, sel))


def read(conn: Connection, version: int, windows: dict[str, tuple[date, date]]) -> dict[str, WindowFacts]:
    """The sums of the facts over non-overlapping windows (name → [start, end)), in one statement."""
    f = icp_drift_facts.c
    inside_of = {name: and_(f.closed_on >= s, f.closed_on < e) for name, (s, e) in windows.items()}
    period = case(*((cond, literal(name, String)) for name, cond in inside_of.items()), else_=None)
    first_ok = or_(f.kind != "first", f.prev_on.is_(None),
                   *(and_(inside_of[name], f.prev_on < s) for name, (s, _) in windows.items()))
    p = period.label("period")
    stmt = (select(p, f.kind, f.stage, f.inside, f.segments, f.key, f.value, f.mask,
                   func.sum(f.deals).label("n"))
            .where(f.version == version, or_(*inside_of.values()), first_ok)
            .group_by(period, f.kind, f.stage, f.inside, f.segments, f.key, f.value, f.mask))
    out = {name: WindowFacts() for name in windows}
    for name, kind, stage, inside, segments, key, value, mask, n in conn.execute(stmt):
        n = int(n or 0)
        if not n or name not in out:
            continue
        w = out[name]
        if kind == "group":
            w.groups[(stage, int(inside), segments)] += n
        elif kind == "value":
            w.values[(stage, key, value)] = n
        elif kind == "first":
            w.firsts[(stage, int(mask))] += n
    return out


__all__ = ["DRIFT_ATTRIBUTES", "SINGLE_VALUED", "WindowFacts", "drift_attributes", "first_queries", "group_query",
           "read", "store", "value_queries"]

"""The attribute relation: SQL yielding one `(account_id, attribute, value, num)` row per account and value.

Categorical columns give their value; numeric columns give a band label in `value` and the raw number in
`num` (so a hand-written range matches exactly); `technology` gives one row per tool; `trigger` gives one
row per signal kind seen within the trigger window before one of the account's opportunities (or, when
scoring, before today); extras give `accounts.attributes` JSON keys as text.
Derivation, scoring, segments and disqualifiers all read this one relation.

This module is the one SQL form of the attribute kinds (`catalogue.KINDS`): `account_expr` / `value_expr` /
`num_expr` for single-valued attributes on an `accounts` row, `_MULTI_PARTS` for the multi-valued ones.
Points, drift, matching and the relation all build on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Engine,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)

from icp_mcp.archive.schema import account_technologies, accounts, opportunities, signals
from icp_mcp.engine.model.catalogue import (
    ATTRIBUTES,
    CATEGORICAL,
    EXTRA_PREFIX,
    NUMERIC_BANDS,
    TECHNOLOGY,
    TRIGGER,
    TRIGGER_WINDOW_DAYS,
    band_label,
    bands,
    extra_key,
    is_column,
    is_multi_valued,
    is_numeric,
    kind_of,
)

#: Account columns an extra key may not shadow.
CANONICAL = (*CATEGORICAL, *NUMERIC_BANDS, "owner", "name", "domain", "created_at")
#: Columns of the relation.
COLUMNS = ("account_id", "attribute", "value", "num")
EXTRA_SAMPLE = 500
EXTRA_MAX_KEYS = 20


def json_text(key: str) -> ColumnElement:
    """`accounts.attributes ->> key` as text (SQLAlchemy compiles it per dialect: DuckDB and PostgreSQL)."""
    return accounts.c.attributes[key].as_string()


def band_case(attribute: str) -> ColumnElement:
    """CASE expression mapping a numeric column onto its band label."""
    col = accounts.c[attribute]
    whens = []
    for lo, hi in bands(attribute):
        conds = []
        if lo is not None:
            conds.append(col >= lo)
        if hi is not None:
            conds.append(col < hi)
        whens.append((and_(*conds), literal(band_label(lo, hi), String)))
    return case(*whens, else_=null())


def account_expr(attribute: str) -> ColumnElement:
    """The raw value of a single-valued attribute on an `accounts` row: its column, or its JSON key as text."""
    return accounts.c[attribute] if is_column(attribute) else json_text(extra_key(attribute))


def value_expr(attribute: str) -> ColumnElement | None:
    """The relation's `value` of a single-valued attribute on an `accounts` row (a band label for a number,
    text otherwise); None for a multi-valued (or unknown) attribute: its values are rows of their own table."""
    if kind_of(attribute) is None or is_multi_valued(attribute):
        return None
    return band_case(attribute) if is_numeric(attribute) else cast(account_expr(attribute), String)


def num_expr(attribute: str) -> ColumnElement:
    """The relation's `num`: the number of a numeric attribute, NULL for every other kind."""
    return cast(accounts.c[attribute], Float) if is_numeric(attribute) else cast(null(), Float)


def discover_extras(engine: Engine) -> list[str]:
    """Extra attribute names (`attributes.<key>`) with scalar values, from a sample of accounts."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(accounts.c.attributes).where(accounts.c.attributes.is_not(None)).limit(EXTRA_SAMPLE)
        ).scalars().all()
    keys: dict[str, None] = {}
    for row in rows:
        if isinstance(row, str):
            import json

            try:
                row = json.loads(row)
            except ValueError:
                continue
        if not isinstance(row, dict):
            continue
        for k, v in row.items():
            name = f"{EXTRA_PREFIX}{k}"
            if any(k == col or k.startswith(col + "_") for col in CANONICAL):
                continue  # a copy or banding of a canonical column (e.g. employees_band) would count twice
            if isinstance(v, (str, int, bool)) and kind_of(name) == "extra":
                keys.setdefault(name, None)
    return list(keys)[:EXTRA_MAX_KEYS]


def _account_filter(stmt: Select, column: ColumnElement, account_ids: Sequence[str] | None) -> Select:
    if account_ids is not None:
        stmt = stmt.where(column.in_(list(account_ids)))
    return stmt


def attribute_relation(
    attributes: Iterable[str],
    *,
    closed_before: date | None = None,
    as_of: datetime | None = None,
    trigger_window_days: int = TRIGGER_WINDOW_DAYS,
    account_ids: Sequence[str] | None = None,
) -> Select:
    """One SELECT (a UNION ALL) over the requested attributes with columns account_id, attribute, value, num.

    Triggers look at opportunities created before `closed_before` when given (derivation); with `as_of`
    they also count signals in the window before `as_of` (scoring prospects with no opportunity yet).
    """
    parts: list[Select] = []
    a = accounts
    for name in dict.fromkeys(attributes):
        if kind_of(name) is None:
            continue
        if is_multi_valued(name):
            parts.append(_MULTI_PARTS[name](closed_before, as_of, trigger_window_days, account_ids))
            continue
        parts.append(_account_filter(
            select(a.c.account_id, literal(name, String).label("attribute"),
                   value_expr(name).label("value"), num_expr(name).label("num"))
            .where(account_expr(name).is_not(None)), a.c.account_id, account_ids))
    if not parts:
        return select(literal("", String).label("account_id"), literal("", String).label("attribute"),
                      literal("", String).label("value"), cast(null(), Float).label("num")).where(literal(False))
    if len(parts) == 1:
        return parts[0]
    return union_all(*parts).subquery("attr_union").select()


def _technology_part(
    closed_before: date | None, as_of: datetime | None, window_days: int, account_ids: Sequence[str] | None
) -> Select:
    """One row per tool an account uses (not dated: the cut and window do not apply)."""
    t = account_technologies
    return _account_filter(
        select(t.c.account_id, literal(TECHNOLOGY, String).label("attribute"),
               cast(t.c.technology, String).label("value"), cast(null(), Float).label("num")),
        t.c.account_id, account_ids)


def _trigger_part(
    closed_before: date | None, as_of: datetime | None, window_days: int, account_ids: Sequence[str] | None
) -> Select:
    """Signal kinds within the window before the account's latest opportunity (created before the cut), or
    before `as_of` when given (a prospect's current triggers). One join with the latest creation date."""
    s, o = signals, opportunities
    window = literal(timedelta(days=window_days))
    opp_cut = true() if closed_before is None else o.c.created_at < closed_before
    latest = select(o.c.account_id, func.max(o.c.created_at).label("created_at")).where(opp_cut).group_by(
        o.c.account_id).subquery("latest_opp")
    cond = and_(latest.c.created_at.is_not(None), s.c.occurred_at <= latest.c.created_at,
                s.c.occurred_at >= latest.c.created_at - window)
    if as_of is not None:
        lo = as_of - timedelta(days=window_days)
        cond = or_(cond, and_(s.c.occurred_at <= as_of, s.c.occurred_at >= lo))
    stmt = (
        select(s.c.account_id, literal(TRIGGER, String).label("attribute"),
               cast(s.c.kind, String).label("value"), cast(null(), Float).label("num"))
        .select_from(s.outerjoin(latest, latest.c.account_id == s.c.account_id))
        .where(cond).distinct()
    )
    return _account_filter(stmt, s.c.account_id, account_ids)


#: The relation part of each multi-valued attribute, all called as (closed_before, as_of, window, account_ids).
_MULTI_PARTS = {TECHNOLOGY: _technology_part, TRIGGER: _trigger_part}


def catalogue_attributes(engine: Engine) -> list[str]:
    """Every attribute derivation considers on this archive: the fixed catalogue plus discovered extras."""
    return list(ATTRIBUTES) + discover_extras(engine)

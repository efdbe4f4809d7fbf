"""Distinct closed deals (and won deals) per buying role and per raw contact title, for the personas.

A deal counts once per role and once per title however many of its contacts share them. Portable SQL: one
grouping set per (deal, role) and one per (deal, title), then counted per role and per title (11M groups of
string keys at L, most of the personas' time). On DuckDB, when the roles and titles are few (they are a
short list in every CRM seen so far), each deal's roles and titles become bit masks instead (a role's or
title's position in its sorted list; titles in words of 62 bits), so the deals are grouped once by id and
then by (won, masks) into a few thousand rows that Python unfolds; same counts, a quarter of the work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, ColumnElement, Connection, case, cast, func, literal, select, tuple_

from icp_mcp.archive.schema import contacts, opportunities, opportunity_contacts

#: (role or title, closed deals, won deals)
DealCount = tuple[str | None, int, int]

WORD_BITS = 62   # bits used per BIGINT mask word (the sign bit and the one below it stay clear)
MAX_WORDS = 4    # more distinct titles than 4 × 62: the portable grouping sets are used instead


def deal_counts(conn: Connection, where: ColumnElement) -> tuple[list[DealCount], list[DealCount]]:
    """(per role, per raw title) closed deals and won deals over the deals matching `where`
    (an `opportunities` condition), each sorted by name; the NULL title (contact row or title missing)
    is left out (no persona takes it)."""
    masked = _masked_counts(conn, where) if conn.dialect.name == "duckdb" else None
    by_role, by_title = masked if masked is not None else _grouped_counts(conn, where)
    return _sorted(by_role), _sorted([r for r in by_title if r[0] is not None])


def _sorted(rows: Sequence[DealCount]) -> list[DealCount]:
    return sorted(((k, int(n), int(w)) for k, n, w in rows), key=lambda r: str(r[0]))


def _deals():
    """deal contacts of the deals, with the contact's title (outer: a role counts without its contact)."""
    o, oc, c = opportunities, opportunity_contacts, contacts
    return (oc.join(o, o.c.opportunity_id == oc.c.opportunity_id)
            .outerjoin(c, c.c.contact_id == oc.c.contact_id))


def _won():
    return func.max(case((opportunities.c.stage == "won", 1), else_=0)).label("won")


def _grouped_counts(conn: Connection, where: ColumnElement) -> tuple[list[DealCount], list[DealCount]]:
    """The portable form: GROUPING SETS (deal, role) and (deal, title), counted per role and per title."""
    oc, c = opportunity_contacts, contacts
    per_deal = (select(func.grouping(oc.c.role).label("by_title"), oc.c.role, c.c.title, _won())
                .select_from(_deals()).where(where)
                .group_by(func.grouping_sets(tuple_(oc.c.opportunity_id, oc.c.role),
                                             tuple_(oc.c.opportunity_id, c.c.title)))
                .subquery("per_deal"))
    rows = conn.execute(select(per_deal.c.by_title, per_deal.c.role, per_deal.c.title, func.count(),
                               func.sum(per_deal.c.won))
                        .group_by(per_deal.c.by_title, per_deal.c.role, per_deal.c.title)).all()
    return ([(role, n, w) for g, role, _, n, w in rows if not g],
            [(title, n, w) for g, _, title, n, w in rows if g])


def _bit(names: list[str], col: ColumnElement) -> ColumnElement:
    """1 << (position of `col` in `names`), 0 when it is not there (or NULL)."""
    pos = func.list_position(func.list_value(*(literal(x) for x in names)), col)
    return func.coalesce(cast(literal(1), BigInteger).op("<<")(pos - 1), 0)


def _masked_counts(conn: Connection, where: ColumnElement) -> tuple[list[DealCount], list[DealCount]] | None:
    """DuckDB: per deal (won, role mask, title mask words), grouped by the masks; None when there are too
    many distinct roles or titles for the masks."""
    o, oc, c = opportunities, opportunity_contacts, contacts
    roles = sorted(conn.execute(select(oc.c.role).distinct()).scalars())
    titles = sorted(conn.execute(select(c.c.title).where(c.c.title.is_not(None)).distinct()).scalars())
    if not roles:
        return [], []  # no deal contacts at all
    if len(roles) > WORD_BITS or len(titles) > WORD_BITS * MAX_WORDS:
        return None
    words = [titles[i:i + WORD_BITS] for i in range(0, len(titles), WORD_BITS)]
    masks = [func.bit_or(_bit(roles, oc.c.role)).label("r"),
             *(func.bit_or(_bit(w, c.c.title)).label(f"t{i}") for i, w in enumerate(words))]
    per_deal = (select(_won(), *masks).select_from(_deals()).where(where).group_by(o.c.opportunity_id)
                .subquery("per_deal"))
    keys = [per_deal.c.won, per_deal.c.r, *(per_deal.c[f"t{i}"] for i in range(len(words)))]
    role_n, role_w = [0] * len(roles), [0] * len(roles)
    title_n, title_w = [0] * len(titles), [0] * len(titles)
    for won, r, *ts, n in conn.execute(select(*keys, func.count()).group_by(*keys)).all():
        for i in _bits(r):
            role_n[i] += n
            role_w[i] += n * won
        for k, t in enumerate(ts):
            for i in _bits(t):
                title_n[k * WORD_BITS + i] += n
                title_w[k * WORD_BITS + i] += n * won
    return ([(x, n, w) for x, n, w in zip(roles, role_n, role_w, strict=True) if n],
            [(x, n, w) for x, n, w in zip(titles, title_n, title_w, strict=True) if n])


def _bits(mask: int | None) -> list[int]:
    """Positions of the set bits of a mask."""
    mask = int(mask or 0)
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out

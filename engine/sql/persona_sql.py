"""Persona counts in SQL: distinct closed deals per buying role and per raw contact title, and snippets per
role and per raw title and topics string.

A derivation sums them over its closed deals and its topic window (`deal_counts`, `topic_counts`). The stored
ICP state keeps them per day (`store` into `icp_persona_facts`: deals by closed day and won, snippets by day),
so that a derivation of the current generation reads a range sum of a few hundred thousand small rows
(`read_deal_counts`, `read_topic_counts`) instead of joining millions of deal contacts, contacts, snippets
and conversations on their string ids (8 s of a 20 s derivation at 1M accounts).

Deals: a deal counts once per role and once per title however many of its contacts share them. Portable SQL:
one grouping set per (deal, role) and one per (deal, title) (11M groups of string keys at 1M accounts). On
DuckDB, when the roles and titles are few (a short list in every CRM seen so far), each deal's roles and
titles become bit masks (a role's or title's position in its sorted list; titles in words of 62 bits), the
deals are grouped once by id and then by (day, won, masks), and a join with the list of positions unfolds the
masks into per-role and per-title rows; same counts, a quarter of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger, ColumnElement, Connection, Date, FromClause, Integer, Select, String, and_, case, cast, column,
    func, insert, literal, null, select, true, tuple_, values,
)

from icp_mcp.archive.schema import (
    contacts,
    conversation_snippets,
    conversations,
    icp_persona_facts,
    opportunities,
    opportunity_contacts,
)
from icp_mcp.engine.sql.labels import closed_deals_where
from icp_mcp.engine.sql.temp import once

#: (role or title, closed deals, won deals)
DealCount = tuple[str | None, int, int]
#: (role or title, topics string, snippets)
TopicCount = tuple[str | None, str, int]

WORD_BITS = 62   # bits used per BIGINT mask word (the sign bit and the one below it stay clear)
MAX_WORDS = 4    # more distinct titles than 4 × 62: the portable grouping sets are used instead
TOPIC_SPAN = timedelta(days=365)  # topics come from the year of snippets before the cut

ROLE, TITLE = "role", "title"
ROLE_TOPICS, TITLE_TOPICS = "role_topics", "title_topics"
#: The columns `store` fills, in the order of its selects.
_FACT_COLUMNS = ["version", "kind", "key", "on_day", "won", "topics", "n"]


# ------------------------------------------------------------------------------------------ closed deals


def deal_counts(conn: Connection, closed_before: date | None) -> tuple[list[DealCount], list[DealCount]]:
    """(per role, per raw title) closed deals and won deals closed before the cut (all when None), each
    sorted by name; the NULL title (contact row or title missing) is left out (no persona takes it)."""
    per_key = _deals_per_key(conn, closed_deals_where(closed_before), by_day=False).subquery("per_key")
    rows = conn.execute(select(per_key.c.kind, per_key.c.key, per_key.c.won, per_key.c.n)).all()
    return _folded(rows)


def _folded(rows: Sequence) -> tuple[list[DealCount], list[DealCount]]:
    """(kind, key, won, deals) rows → (per role, per title) (key, deals, won deals), sorted by key."""
    out: dict[str, dict[str, list[int]]] = {ROLE: {}, TITLE: {}}
    for kind, key, won, n in rows:
        sums = out[kind].setdefault(key, [0, 0])
        sums[0] += int(n)
        sums[1] += int(n) * int(won)
    return tuple(sorted(((k, n, w) for k, (n, w) in out[kind].items()), key=lambda r: str(r[0]))  # type: ignore
                 for kind in (ROLE, TITLE))


def _deals():
    """deal contacts of the deals, with the contact's title (outer: a role counts without its contact)."""
    o, oc, c = opportunities, opportunity_contacts, contacts
    return (oc.join(o, o.c.opportunity_id == oc.c.opportunity_id)
            .outerjoin(c, c.c.contact_id == oc.c.contact_id))


def _won():
    return func.max(case((opportunities.c.stage == "won", 1), else_=0)).label("won")


def _day(by_day: bool):
    return (func.max(opportunities.c.closed_at) if by_day else cast(null(), Date)).label("on_day")


def _deals_per_key(conn: Connection, where: ColumnElement, *, by_day: bool) -> Select:
    """(kind 'role' | 'title', key, on_day, won, n): distinct deals matching `where` per role and per raw
    title (NULL titles left out), per closed day when `by_day` (else on_day NULL)."""
    if conn.dialect.name == "duckdb":
        masked = _masked(conn, where, by_day)
        if masked is not None:
            return masked
    return _grouped(where, by_day)


def _grouped(where: ColumnElement, by_day: bool) -> Select:
    """The portable form: GROUPING SETS (deal, role) and (deal, title), counted per role and per title."""
    oc, c = opportunity_contacts, contacts
    per_deal = (select(func.grouping(oc.c.role).label("by_title"), oc.c.role, c.c.title, _day(by_day), _won())
                .select_from(_deals()).where(where)
                .group_by(func.grouping_sets(tuple_(oc.c.opportunity_id, oc.c.role),
                                             tuple_(oc.c.opportunity_id, c.c.title)))
                .subquery("per_deal"))
    keys = [per_deal.c.by_title, per_deal.c.role, per_deal.c.title, per_deal.c.on_day, per_deal.c.won]
    # grouped by plain columns first: PostgreSQL would not match a CASE with bound parameters in GROUP BY
    g = (select(*keys, func.count().label("n"))
         .where((per_deal.c.by_title == 0) | per_deal.c.title.is_not(None))
         .group_by(*keys).subquery("g"))
    by_title = g.c.by_title == 1
    return select(case((by_title, literal(TITLE)), else_=literal(ROLE)).label("kind"),
                  case((by_title, g.c.title), else_=g.c.role).label("key"), g.c.on_day, g.c.won, g.c.n)


def _bit(names: list[str], col: ColumnElement) -> ColumnElement:
    """1 << (position of `col` in `names`), 0 when it is not there (or NULL)."""
    pos = func.list_position(func.list_value(*(literal(x) for x in names)), col)
    return func.coalesce(cast(literal(1), BigInteger).op("<<")(pos - 1), 0)


def _positions(roles: list[str], words: list[list[str]]) -> FromClause:
    """A VALUES list of (kind, key, word, pos): each role (word 0) and title (word 1 + its title word) with
    its bit position."""
    rows = [(ROLE, x, 0, i) for i, x in enumerate(roles)]
    rows += [(TITLE, x, w + 1, i) for w, names in enumerate(words) for i, x in enumerate(names)]
    return values(column("kind", String), column("key", String), column("word", Integer), column("pos", Integer),
                  name="positions").data(rows)


def _masked(conn: Connection, where: ColumnElement, by_day: bool) -> Select | None:
    """DuckDB: per deal (day, won, role mask, title mask words), grouped by the masks, unfolded per role and
    title in one join with the bit positions; None when there are too many distinct roles or titles for
    the masks."""
    o, oc, c = opportunities, opportunity_contacts, contacts
    roles = sorted(conn.execute(select(oc.c.role).distinct()).scalars())
    titles = sorted(conn.execute(select(c.c.title).where(c.c.title.is_not(None)).distinct()).scalars())
    if len(roles) > WORD_BITS or len(titles) > WORD_BITS * MAX_WORDS:
        return None
    if not roles:  # no deal contacts at all
        return select(literal(ROLE).label("kind"), literal("").label("key"), _day(False), literal(0).label("won"),
                      literal(0).label("n")).where(literal(False))
    words = [titles[i:i + WORD_BITS] for i in range(0, len(titles), WORD_BITS)]
    # each contact's title bit per word, then each deal's masks from its deal contacts (grouped by the deal
    # contacts' own key before the join with the deals: a quarter less work than grouping the joined rows)
    bits = select(c.c.contact_id, *(_bit(w, c.c.title).label(f"b{i}") for i, w in enumerate(words))).subquery("bits")
    per_oc = (select(oc.c.opportunity_id, func.bit_or(_bit(roles, oc.c.role)).label("r"),
                     *(func.bit_or(func.coalesce(bits.c[f"b{i}"], 0)).label(f"t{i}") for i in range(len(words))))
              .select_from(oc.outerjoin(bits, bits.c.contact_id == oc.c.contact_id))
              .group_by(oc.c.opportunity_id).subquery("per_oc"))
    day = o.c.closed_at if by_day else cast(null(), Date)
    per_deal = (select(day.label("on_day"), case((o.c.stage == "won", 1), else_=0).label("won"), per_oc.c.r,
                       *(per_oc.c[f"t{i}"] for i in range(len(words))))
                .select_from(per_oc.join(o, o.c.opportunity_id == per_oc.c.opportunity_id)).where(where)
                .subquery("per_deal"))
    mask_cols = [per_deal.c.r, *(per_deal.c[f"t{i}"] for i in range(len(words)))]
    keys = [per_deal.c.on_day, per_deal.c.won, *mask_cols]
    g = select(*keys, func.count().label("n")).group_by(*keys).subquery("g")
    pos = _positions(roles, words)
    word_mask = case(*((pos.c.word == w, g.c[col.name]) for w, col in enumerate(mask_cols)),
                     else_=literal(0, BigInteger))
    hit = word_mask.op(">>")(pos.c.pos).op("&")(literal(1, BigInteger)) == 1
    return (select(pos.c.kind, pos.c.key, g.c.on_day, g.c.won, func.sum(g.c.n).label("n"))
            .select_from(g.join(pos, hit)).group_by(pos.c.kind, pos.c.key, g.c.on_day, g.c.won))


# ------------------------------------------------------------------------------------------ topics


def topic_window(conn: Connection, closed_before: date | None) -> tuple[date, date] | None:
    """[start, end) days of the snippets whose topics a derivation reads: the year before the cut, or the
    year up to and including the last snippet's day; None when there are no snippets."""
    end = closed_before
    if end is None:
        last = conn.execute(select(func.max(conversation_snippets.c.occurred_at))).scalar()
        if last is None:
            return None
        end = (last.date() if isinstance(last, datetime) else last) + timedelta(days=1)
    return end - TOPIC_SPAN, end


def _per_contact(where: ColumnElement, by_day: bool) -> Select:
    """(contact_id, on_day, topics, n): snippets with topics per contact (and day when `by_day`)."""
    sn, cv = conversation_snippets, conversations
    day = cast(sn.c.occurred_at, Date) if by_day else cast(null(), Date)
    return (select(cv.c.contact_id, day.label("on_day"), sn.c.topics, func.count().label("n"))
            .select_from(sn.join(cv, cv.c.conversation_id == sn.c.conversation_id))
            .where(sn.c.topics != ",", where).group_by(cv.c.contact_id, day, sn.c.topics))


def _topics_by(pc: FromClause) -> tuple[Select, Select]:
    """(key, on_day, topics, n) per raw title and per role of the contacts of `pc` (`_per_contact` rows);
    a contact counts for every role it has on any deal."""
    oc, c = opportunity_contacts, contacts
    roles_of = (select(oc.c.contact_id, oc.c.role).where(oc.c.contact_id.in_(select(pc.c.contact_id)))
                .distinct().subquery("roles_of"))

    def by(key, joined, *where) -> Select:
        return (select(key.label("key"), pc.c.on_day, pc.c.topics, func.sum(pc.c.n).label("n"))
                .select_from(pc.join(*joined)).where(*where).group_by(key, pc.c.on_day, pc.c.topics))

    return (by(c.c.title, (c, c.c.contact_id == pc.c.contact_id), c.c.title.is_not(None)),
            by(roles_of.c.role, (roles_of, roles_of.c.contact_id == pc.c.contact_id)))


def _window_where(window: tuple[date, date]) -> ColumnElement:
    start, end = (datetime.combine(d, datetime.min.time()) for d in window)
    at = conversation_snippets.c.occurred_at
    return and_(at >= start, at < end)


def topic_counts(conn: Connection, window: tuple[date, date] | None
                 ) -> tuple[list[TopicCount], list[TopicCount]]:
    """(per role, per raw title) snippets per topics string in the window (`topic_window`)."""
    if window is None:
        return [], []
    with once(conn, _per_contact(_window_where(window), by_day=False), "persona_topics") as pc:
        titles, roles = ([tuple(r) for r in conn.execute(select(q.c.key, q.c.topics, q.c.n)).all()]
                         for q in (rows.subquery("by_key") for rows in _topics_by(pc)))
    return roles, titles  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ stored per day


def store(conn: Connection, version: int) -> None:
    """Fill `icp_persona_facts` for the stored state of `version`: closed deals per (kind, key, closed day,
    won) and snippets per (kind, key, day, topics), over everything the archive holds."""
    f = icp_persona_facts
    deals = _deals_per_key(conn, closed_deals_where(None), by_day=True).subquery("deals")
    conn.execute(insert(f).from_select(_FACT_COLUMNS, select(
        literal(version), deals.c.kind, deals.c.key, deals.c.on_day, deals.c.won, cast(null(), String), deals.c.n)))
    with once(conn, _per_contact(true(), by_day=True), "persona_facts_topics") as pc:
        for kind, rows in zip((TITLE_TOPICS, ROLE_TOPICS), _topics_by(pc), strict=True):
            part = rows.subquery("part")
            conn.execute(insert(f).from_select(_FACT_COLUMNS, select(
                literal(version), literal(kind), part.c.key, part.c.on_day, cast(null(), Integer), part.c.topics,
                part.c.n)))


def read_deal_counts(conn: Connection, version: int, closed_before: date | None
                     ) -> tuple[list[DealCount], list[DealCount]]:
    """`deal_counts` from the stored facts of `version`."""
    f = icp_persona_facts
    cond = [f.c.version == version, f.c.kind.in_((ROLE, TITLE))]
    if closed_before is not None:
        cond.append(f.c.on_day < closed_before)
    rows = conn.execute(select(f.c.kind, f.c.key, f.c.won, func.sum(f.c.n)).where(*cond)
                        .group_by(f.c.kind, f.c.key, f.c.won)).all()
    return _folded(rows)


def read_topic_counts(conn: Connection, version: int, window: tuple[date, date] | None
                      ) -> tuple[list[TopicCount], list[TopicCount]]:
    """`topic_counts` from the stored facts of `version`."""
    if window is None:
        return [], []
    f = icp_persona_facts
    rows = conn.execute(select(f.c.kind, f.c.key, f.c.topics, func.sum(f.c.n))
                        .where(f.c.version == version, f.c.kind.in_((ROLE_TOPICS, TITLE_TOPICS)),
                               f.c.on_day >= window[0], f.c.on_day < window[1])
                        .group_by(f.c.kind, f.c.key, f.c.topics)).all()
    roles = [(k, t, int(n)) for kind, k, t, n in rows if kind == ROLE_TOPICS]
    titles = [(k, t, int(n)) for kind, k, t, n in rows if kind == TITLE_TOPICS]
    return roles, titles

"""Personas: buying roles and normalized titles on won vs lost deals, their lift and the topics they raise.

SQL counts distinct closed deals per role and per raw title (`persona_counts`), and snippets
per contact and topic string (one pass over the snippets, folded by title and by role); Python normalises
titles ("VP of Engineering" → "VP · Engineering") and folds the counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, case, func, select

from icp_mcp.archive.schema import (
    contacts,
    conversation_snippets,
    conversations,
    opportunities,
    opportunity_contacts,
)
from icp_mcp.engine.derivation.persona_counts import deal_counts
from icp_mcp.engine.model.stats import evidence
from icp_mcp.engine.sql.labels import closed_deals_where
from icp_mcp.engine.sql.temp import once
from icp_mcp.engine.model.profile import ICPDefinition, Persona, TopicCount
from icp_mcp.engine.model.titles import normalize_title

MIN_DEALS = 10
MAX_PERSONAS = 12
MAX_TOPICS = 5
TOPIC_SPAN = timedelta(days=365)

def _topics(raw_counts: dict[str, Counter]) -> dict[str, list[TopicCount]]:
    return {k: [TopicCount(topic=t, n=n) for t, n in c.most_common(MAX_TOPICS)] for k, c in raw_counts.items()}


def derive_personas(engine: Engine, *, closed_before: date | None = None) -> list[Persona]:
    """Roles and normalized titles on closed deals (before the cut), with lift and their topics."""
    o, oc, c = opportunities, opportunity_contacts, contacts
    where = closed_deals_where(closed_before)
    won = case((o.c.stage == "won", o.c.opportunity_id))
    cv, sn = conversations, conversation_snippets
    with engine.connect() as conn:
        total = conn.execute(select(func.count(), func.count(won)).where(where)).one()
        by_role, by_title = deal_counts(conn, where)
        # Topics come from the year of snippets before the cut: recent enough to be what personas raise now,
        # and a bounded scan on large archives.
        end = closed_before or conn.execute(select(func.max(sn.c.occurred_at))).scalar()
        snip_where = sn.c.topics != ","
        if end is not None:
            start = (end if isinstance(end, datetime) else datetime.combine(end, datetime.min.time())) - TOPIC_SPAN
            snip_where = snip_where & (sn.c.occurred_at >= start)
        if closed_before is not None:
            snip_where = snip_where & (sn.c.occurred_at < closed_before)
        # One pass over the snippets: (contact, topics string, snippets), then folded by title and by role.
        per_contact = (select(cv.c.contact_id, sn.c.topics, func.count().label("n"))
                       .select_from(sn.join(cv, cv.c.conversation_id == sn.c.conversation_id))
                       .where(snip_where).group_by(cv.c.contact_id, sn.c.topics))
        with once(conn, per_contact, "persona_topics") as pc:
            roles_of = (select(oc.c.contact_id, oc.c.role).where(oc.c.contact_id.in_(select(pc.c.contact_id)))
                        .distinct().subquery("roles_of"))

            def topics_by(key_col, joined):
                """(persona key, topics string, snippets) for snippets of conversations with a persona contact."""
                return conn.execute(select(key_col, pc.c.topics, func.sum(pc.c.n))
                                    .select_from(pc.join(*joined)).group_by(key_col, pc.c.topics)).all()

            title_topics = topics_by(c.c.title, (c, c.c.contact_id == pc.c.contact_id))
            role_topics = topics_by(roles_of.c.role, (roles_of, roles_of.c.contact_id == pc.c.contact_id))
    n_all, wins_all = int(total[0]), int(total[1])
    base = wins_all / n_all if n_all else 0.0
    t_counts: dict[str, Counter] = defaultdict(Counter)
    for title, topics, n in title_topics:
        key = normalize_title(title)
        for t in (topics or "").split(","):
            if t and key:
                t_counts[key][t] += int(n)
    r_counts: dict[str, Counter] = defaultdict(Counter)
    for role, topics, n in role_topics:
        for t in (topics or "").split(","):
            if t:
                r_counts[role][t] += int(n)
    r_topics, t_topics = _topics(r_counts), _topics(t_counts)

    out: list[Persona] = []
    for role, n, w in by_role:
        if int(n) >= MIN_DEALS:
            ev = evidence(int(w), int(n), base)
            out.append(Persona(kind="role", role=role, evidence=ev, topics=r_topics.get(role, []),
                               supported=not (ev.interval[0] <= base <= ev.interval[1])))
    folded: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for title, n, w in by_title:
        key = normalize_title(title)
        if key:
            folded[key][0] += int(n)
            folded[key][1] += int(w)
    titles = []
    for key, (n, w) in folded.items():
        n = min(n, n_all)
        if n >= MIN_DEALS:
            ev = evidence(min(w, n), n, base)
            titles.append(Persona(kind="title", title=key, evidence=ev, topics=t_topics.get(key, []),
                                  supported=not (ev.interval[0] <= base <= ev.interval[1])))
    titles.sort(key=lambda p: (not p.supported, -(p.evidence.lift or 0), -p.evidence.n))
    out.sort(key=lambda p: -(p.evidence.lift or 0))
    return out + titles[: max(0, MAX_PERSONAS - len(out))]


def personas(engine: Engine, definition: ICPDefinition) -> list[Persona]:
    """Roles and titles with their win-rate lift and topics, over the definition's derivation window."""
    cut = definition.closed_to + timedelta(days=1) if definition.closed_to else None
    return derive_personas(engine, closed_before=cut)

"""Personas: buying roles and normalized titles on won vs lost deals, their lift and the topics they raise.

SQL counts distinct closed deals per role and per raw title, and snippets per role and per raw title and
topics string (`sql.persona_sql`): from the per-day counts kept with the stored state when its generation is
current (a range sum), else from the deals and snippets; Python normalises titles ("VP of Engineering" →
"VP · Engineering") and folds the counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import Engine, case, func, select

from icp_mcp.archive.schema import opportunities
from icp_mcp.engine.model.profile import ICPDefinition, Persona, TopicCount
from icp_mcp.engine.model.stats import evidence
from icp_mcp.engine.model.titles import normalize_title
from icp_mcp.engine.scoring.state import persona_facts_version
from icp_mcp.engine.sql import cache, persona_sql
from icp_mcp.engine.sql.labels import closed_deals_where

MIN_DEALS = 10
MAX_PERSONAS = 12
MAX_TOPICS = 5


def _topics(raw_counts: dict[str, Counter]) -> dict[str, list[TopicCount]]:
    """The MAX_TOPICS topics raised most per key (ties by name: the same on every path and engine)."""
    return {k: [TopicCount(topic=t, n=n) for t, n in sorted(c.items(), key=lambda x: (-x[1], x[0]))[:MAX_TOPICS]]
            for k, c in raw_counts.items()}


def derive_personas(engine: Engine, *, closed_before: date | None = None) -> list[Persona]:
    """Roles and normalized titles on closed deals (before the cut), with lift and their topics (from the
    year of snippets before the cut: recent enough to be what personas raise now)."""
    o = opportunities
    won = case((o.c.stage == "won", o.c.opportunity_id))
    stored = persona_facts_version(engine)
    with engine.connect() as conn:
        total = conn.execute(select(func.count(), func.count(won)).where(closed_deals_where(closed_before))).one()
        window = persona_sql.topic_window(conn, closed_before)
        if stored is not None:
            cache.count("persona_facts")
            by_role, by_title = persona_sql.read_deal_counts(conn, stored, closed_before)
            role_topics, title_topics = persona_sql.read_topic_counts(conn, stored, window)
        else:
            cache.count("persona_counted")
            by_role, by_title = persona_sql.deal_counts(conn, closed_before)
            role_topics, title_topics = persona_sql.topic_counts(conn, window)
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

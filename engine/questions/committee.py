"""The buying committee at one account: its known contacts ranked by the ICP's winning personas.

A rep's question after "does it fit?" is "whom do I call?". The ICP's personas (buying roles and normalized
titles with their win-rate lift on closed deals) rank the account's contacts; the winning roles nobody at
the account holds are named ("no economic buyer known"); each contact comes with its last touch. Contact
names and emails sit in `contact_name` / `email`, which the server masks for callers without `pii:read`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from icp_mcp.archive.schema import contacts, conversations, opportunities, opportunity_contacts
from icp_mcp.engine.model.numbers import count
from icp_mcp.engine.model.profile import ICPDefinition, Persona
from icp_mcp.engine.model.titles import normalize_title

MAX_CONTACTS = 5


class PersonaMatch(BaseModel):
    """The ICP persona a contact matches: a buying role or a normalized title, with its lift."""

    kind: str
    persona: str
    lift: float | None = None
    supported: bool = False


class CommitteeContact(BaseModel):
    """A known contact; name and email need pii:read."""

    contact_id: str
    contact_name: str | None = None
    email: str | None = None
    title: str = ""
    roles: list[str] = Field(default_factory=list)
    persona: str = ""  # the winning persona matched, with its lift: 'title CFO (lift 3.35)'; "" for none
    last_touch: str = ""  # date and channel: '2026-07-05 call', '2026-03-01 deal won'; "" for none


class BuyingCommittee(BaseModel):
    """Contacts ranked by winning personas; winning roles nobody holds."""

    summary: str
    contacts: list[CommitteeContact]  # the top ones; the summary counts them all
    missing_roles: list[str] = Field(default_factory=list)


def readable_role(role: str) -> str:
    """'economic_buyer' → 'economic buyer'."""
    return role.replace("_", " ").strip()


def winning_roles(personas: list[Persona]) -> list[Persona]:
    """Role personas whose win rate is above base with an interval that excludes it, by lift."""
    out = [p for p in personas if p.kind == "role" and p.role and p.supported and (p.evidence.lift or 0) > 1]
    return sorted(out, key=lambda p: -(p.evidence.lift or 0))


def _match(personas: list[Persona], roles: list[str], normalized: str | None) -> PersonaMatch | None:
    """The best persona a contact matches: supported winners first, then the highest lift."""
    found = [p for p in personas if (p.kind == "role" and p.role in roles)
             or (p.kind == "title" and normalized is not None and p.title == normalized)]
    if not found:
        return None
    best = max(found, key=lambda p: (p.supported and (p.evidence.lift or 0) > 1, p.evidence.lift or 0))
    return PersonaMatch(kind=best.kind, persona=readable_role(best.role) if best.kind == "role" else best.title,
                        lift=None if best.evidence.lift is None else round(best.evidence.lift, 2),
                        supported=best.supported)


def _rank_key(item: tuple[PersonaMatch | None, CommitteeContact]) -> tuple:
    p, c = item
    winner = p is not None and p.supported and (p.lift or 0) > 1
    touched = -date.fromisoformat(c.last_touch[:10]).toordinal() if c.last_touch else 0
    return (not winner, -(p.lift or 0) if p else 0.0, touched, c.contact_id)


def _one_per_persona_first(ranked: list[tuple[PersonaMatch | None, CommitteeContact]]) -> list[CommitteeContact]:
    """The best contact of each winning persona first (a committee, not three champions), then everyone
    else in rank order."""
    seen: set[tuple[str, str]] = set()
    first, rest = [], []
    for match, contact in ranked:
        winner = match is not None and match.supported and (match.lift or 0) > 1
        keys = {("persona", f"{match.kind} {match.persona}" if match else ""), ("roles", ",".join(contact.roles))}
        if winner and not keys & seen:
            seen |= keys
            first.append(contact)
        else:
            rest.append(contact)
    return first + rest


def _at(value: date | datetime | None) -> datetime | None:
    """A date or timestamp as a timestamp (deal days and conversation times compare)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time())


def buying_committee(engine: Engine, definition: ICPDefinition, account_id: str,
                     limit: int = MAX_CONTACTS) -> BuyingCommittee:
    """The account's contacts ranked by the definition's personas, the winning roles missing, last touches."""
    c, oc, cv, o = contacts, opportunity_contacts, conversations, opportunities
    with engine.connect() as conn:  # keyed reads: contacts, the account's deals and their roles, conversations
        people = conn.execute(select(c.c.contact_id, c.c.name, c.c.email, c.c.title)
                              .where(c.c.account_id == account_id)).all()
        # the account's deals by their index, then their contacts by deal id (a join would scan every
        # deal-contact row of the archive: ~1 s at 1M accounts)
        days = {oid: (stage, day) for oid, stage, day in conn.execute(
            select(o.c.opportunity_id, o.c.stage, func.coalesce(o.c.closed_at, o.c.created_at))
            .where(o.c.account_id == account_id))}
        wanted = sorted(days)  # deal contacts are stored in deal-id order: the range lets DuckDB skip row groups
        deals = [(contact_id, role, *days[oid]) for oid, contact_id, role in conn.execute(
            select(oc.c.opportunity_id, oc.c.contact_id, oc.c.role)
            .where(oc.c.opportunity_id.between(wanted[0], wanted[-1]), oc.c.opportunity_id.in_(wanted)))
        ] if days else []
        talks = conn.execute(  # the account's conversations as they are (grouping them in SQL scans more)
            select(cv.c.contact_id, cv.c.channel, cv.c.occurred_at).where(cv.c.account_id == account_id)).all()
    last: dict[str, tuple[datetime, str]] = {}
    roles: dict[str, set[str]] = defaultdict(set)
    touches = [(cid, channel, _at(at)) for cid, channel, at in talks if cid is not None]
    for contact_id, role, stage, day in deals:
        if role:
            roles[contact_id].add(role)
        touches.append((contact_id, f"deal {stage}", _at(day)))
    for contact_id, channel, at in touches:  # the latest touch; at one instant the label last in order
        if at is not None and (contact_id not in last or (at, channel) > last[contact_id]):
            last[contact_id] = (at, channel)
    info = {contact_id: (name, email, title) for contact_id, name, email, title in people}
    personas = definition.personas
    found = []
    for contact_id, (name, email, title) in info.items():
        normalized = normalize_title(title)
        held = sorted(roles[contact_id])
        touch = last.get(contact_id)
        match = _match(personas, held, normalized)
        persona = "" if match is None else f"{match.kind} {match.persona}" + (
            f" (lift {match.lift:.2f})" if match.lift is not None else "")
        found.append((match, CommitteeContact(
            contact_id=contact_id, contact_name=name, email=email, title=title or "", roles=held, persona=persona,
            last_touch=f"{touch[0].date().isoformat()} {touch[1]}" if touch else "",
        )))
    lifts = {c.contact_id: m.lift for m, c in found if m is not None and m.lift is not None}
    found = _one_per_persona_first(sorted(found, key=_rank_key))
    held_roles = {r for rs in roles.values() for r in rs}
    missing = [readable_role(p.role) for p in winning_roles(personas) if p.role not in held_roles]
    return BuyingCommittee(summary=_summary(found, lifts, missing), contacts=found[:limit], missing_roles=missing)


def _summary(found: list[CommitteeContact], lifts: dict[str, float], missing: list[str]) -> str:
    """'26 known contacts; talk first to Head of RevOps (champion, lift 3.50); …. no economic buyer known'."""
    if not found:
        text = "no contact known at this account"
    else:
        def who(contact: CommitteeContact) -> str:
            role = ", ".join(readable_role(r) for r in contact.roles) or "no deal role"
            lift = f", lift {lifts[contact.contact_id]:.2f}" if contact.contact_id in lifts else ""
            return f"{contact.title or 'untitled contact'} ({role}{lift})"

        text = f"{count(len(found))} known contact{'s' if len(found) != 1 else ''}; talk first to " + "; ".join(
            who(x) for x in found[:3])
    if missing:
        text += ". " + "; ".join(f"no {role} known" for role in missing)
    return text

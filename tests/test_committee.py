"""The buying committee on a hand-made archive: ranking by winning personas, one contact per persona first,
missing winning roles named, last touch from conversations and deals."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.schema import accounts, contacts, conversations, opportunities, opportunity_contacts
from icp_mcp.engine.model.profile import ICPDefinition, Persona
from icp_mcp.engine.model.stats import evidence
from icp_mcp.engine.questions.committee import buying_committee


def persona(kind: str, key: str, wins: int, n: int) -> Persona:
    ev = evidence(wins, n, 0.3)
    supported = not (ev.interval[0] <= 0.3 <= ev.interval[1])
    return Persona(kind=kind, evidence=ev, supported=supported, **({"role": key} if kind == "role" else {"title": key}))


DEFINITION = ICPDefinition(name="t", personas=[
    persona("role", "champion", 120, 200),        # lift 2.0, supported
    persona("role", "economic_buyer", 100, 180),  # lift 1.85, supported: nobody holds it below
    persona("role", "user", 30, 100),             # lift 1.0: not a winner
    persona("title", "VP · Engineering", 90, 150),  # lift 2.0, supported
])


def test_committee_ranks_names_missing_roles_and_last_touch(tmp_path: Path) -> None:
    engine = open_archive(tmp_path / "c.duckdb", create=True)
    create_schema(engine)
    people = [("K1", "Kim Champion", "Head of RevOps"), ("K2", "Kai Champion", "RevOps Lead"),
              ("V1", "Val Vp", "VP of Engineering"), ("U1", "Uma User", "Analyst"), ("N1", "Ned None", None)]
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"account_id": "A1", "name": "Acme"}, {"account_id": "A2", "name": "Other"}])
        conn.execute(insert(contacts), [{"contact_id": cid, "account_id": "A1", "name": name, "title": title,
                                         "email": f"{cid.lower()}@acme.example"} for cid, name, title in people]
                     + [{"contact_id": "X1", "account_id": "A2", "name": "Xavier", "title": "CFO", "email": None}])
        conn.execute(insert(opportunities), [
            {"opportunity_id": "O1", "account_id": "A1", "created_at": date(2026, 1, 5), "stage": "won",
             "closed_at": date(2026, 3, 1)},
            {"opportunity_id": "O2", "account_id": "A1", "created_at": date(2026, 9, 1), "stage": "open",
             "closed_at": None}])
        conn.execute(insert(opportunity_contacts), [
            {"opportunity_id": "O1", "contact_id": "K1", "role": "champion"},
            {"opportunity_id": "O2", "contact_id": "K2", "role": "champion"},
            {"opportunity_id": "O1", "contact_id": "U1", "role": "user"}])
        conn.execute(insert(conversations), [
            {"conversation_id": "V1a", "account_id": "A1", "contact_id": "V1", "channel": "call",
             "occurred_at": datetime(2026, 10, 2, 9), "body": "hello"},
            {"conversation_id": "K1a", "account_id": "A1", "contact_id": "K1", "channel": "email",
             "occurred_at": datetime(2026, 2, 1, 9), "body": "hello"}])
    try:
        got = buying_committee(engine, DEFINITION, "A1", limit=4)
    finally:
        engine.dispose()
    ids = [c.contact_id for c in got.contacts]
    assert len(ids) == 4 and got.summary.startswith("5 known contacts")
    # one contact per winning persona first (lift 2.0 each, the latest touch first), then the second champion
    # before contacts that match no winning persona
    assert ids == ["V1", "K2", "K1", "U1"]
    assert "X1" not in ids  # another account's contact
    k2 = next(c for c in got.contacts if c.contact_id == "K2")
    assert k2.roles == ["champion"] and k2.persona == "role champion (lift 2.00)"
    assert k2.last_touch == "2026-09-01 deal open"
    v1 = next(c for c in got.contacts if c.contact_id == "V1")
    assert v1.persona == "title VP · Engineering (lift 2.00)" and v1.last_touch == "2026-10-02 call" and v1.roles == []
    assert got.missing_roles == ["economic buyer"] and "no economic buyer known" in got.summary
    assert got.summary.startswith("5 known contacts; talk first to ")

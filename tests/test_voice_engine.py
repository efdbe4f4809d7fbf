"""customer_voice on a small hand-built archive: filters, ranking, counts and the proof of an empty answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.fts import rebuild_fts_index
from icp_mcp.archive.schema import (
    accounts,
    contacts,
    conversations,
    opportunities,
    opportunity_contacts,
)
from icp_mcp.archive.snippets import build_snippets
from icp_mcp.archive.topics import tag_topics
from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.questions.voice import customer_voice
from icp_mcp.engine.model.windows import resolve_window

AS_OF = "2026-11-22"
BODIES = {
    # account, day, channel, contact, body
    "C1": ("A1", dt.datetime(2026, 10, 5, 10), "call", "P1",
           "Customer: The per seat pricing is too expensive for our team.\nRep: I hear you."),
    "C2": ("A1", dt.datetime(2026, 10, 20, 9), "email", "P1",
           "We love the SSO rollout. The price was fair for what we got."),
    "C3": ("A2", dt.datetime(2026, 10, 12, 15), "call", "P2",
           "Customer: Our budget is frozen until the renewal, the discount matters.\nRep: Understood."),
    "C4": ("A3", dt.datetime(2026, 10, 15, 11), "ticket", None,
           "The Salesforce integration is broken again. Please fix it."),
    "C5": ("A2", dt.datetime(2026, 6, 1, 11), "call", "P2",
           "Customer: Pricing came up in the board meeting, it is costly.\nRep: noted."),
    "C6": ("A4", dt.datetime(2026, 10, 7, 11), "survey", None, "Pricing is reasonable and support is great."),
    "C7": ("A3", dt.datetime(2026, 9, 10, 8), "ticket", "P3",
           "Please ask Sam Rivera (sam.rivera@example.com) about the invoice."),
}


def _build(path: Path) -> Engine:
    engine = open_archive(path, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [
            {"account_id": a, "name": f"Account {a}", "territory": "NA"} for a in ("A1", "A2", "A3", "A4")
        ])
        conn.execute(insert(contacts), [
            {"contact_id": "P1", "account_id": "A1", "name": "Pat", "title": "VP Finance"},
            {"contact_id": "P2", "account_id": "A2", "name": "Sam", "title": "Head of RevOps"},
            {"contact_id": "P3", "account_id": "A3", "name": "Sam Rivera", "title": "Controller"},
        ])
        conn.execute(insert(opportunities), [
            {"opportunity_id": "O1", "account_id": "A1", "created_at": dt.date(2026, 1, 1), "stage": "won"},
            {"opportunity_id": "O2", "account_id": "A2", "created_at": dt.date(2026, 1, 1), "stage": "won"},
        ])
        conn.execute(insert(opportunity_contacts), [
            {"opportunity_id": "O1", "contact_id": "P1", "role": "economic_buyer"},
            {"opportunity_id": "O2", "contact_id": "P2", "role": "champion"},
        ])
        conn.execute(insert(conversations), [
            {"conversation_id": cid, "account_id": a, "occurred_at": when, "channel": ch, "contact_id": p,
             "body": body}
            for cid, (a, when, ch, p, body) in BODIES.items()
        ])
        build_snippets(conn)
        tag_topics(conn)
        rebuild_fts_index(conn)
    return engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return _build(tmp_path_factory.mktemp("voice") / "voice.duckdb")


def _ids(*acct: str):
    return select(accounts.c.account_id).where(accounts.c.account_id.in_(acct))


def test_topic_cohort_and_window_filter(engine: Engine) -> None:
    window = resolve_window("last_month", as_of=AS_OF)
    with engine.connect() as conn:
        res = customer_voice(conn, window=window, cohort=_ids("A1", "A2"), topic="pricing")
    assert {q.account_id for q in res.quotes} <= {"A1", "A2"}
    assert all("2026-10-01" <= q.date <= "2026-10-31" for q in res.quotes)
    assert all(q.speaker != "vendor" for q in res.quotes)
    assert all("pricing" in q.topics for q in res.quotes)
    assert res.total == len(res.quotes) == 3 and res.accounts == 2
    first = next(q for q in res.quotes if q.conversation_id == "C1")
    assert first.contact_title == "VP Finance" and first.buying_role == "economic_buyer"
    assert first.account_name == "Account A1" and first.channel == "call"
    tones = {c.key: c.n for c in res.by_tone}
    assert sum(tones.values()) == 3 and tones["negative"] >= 1
    assert res.by_topic[0].key == "pricing" and res.by_topic[0].n == 3
    assert {a.account_id: a.n for a in res.by_account} == {"A1": 2, "A2": 1}
    assert res.empty is None


def test_question_ranks_by_bm25(engine: Engine) -> None:
    window = resolve_window("2026-01-01", as_of=AS_OF)
    with engine.connect() as conn:
        res = customer_voice(conn, window=window, question="salesforce integration")
    assert res.quotes[0].conversation_id == "C4"


def test_persona_by_role_and_title(engine: Engine) -> None:
    window = resolve_window("2026-01-01", as_of=AS_OF)
    with engine.connect() as conn:
        champ = customer_voice(conn, window=window, topic="pricing", persona="champion")
        finance = customer_voice(conn, window=window, topic="pricing", persona="finance")
        surveys = customer_voice(conn, window=window, topic="pricing", channel="survey")
    assert {q.account_id for q in champ.quotes} == {"A2"}
    assert {q.account_id for q in finance.quotes} == {"A1"}
    assert [q.conversation_id for q in surveys.quotes] == ["C6"]


def test_paging_and_diversity(engine: Engine) -> None:
    window = resolve_window("2026-01-01", as_of=AS_OF)
    with engine.connect() as conn:
        full = customer_voice(conn, window=window, topic="pricing", limit=50)
        p1 = customer_voice(conn, window=window, topic="pricing", limit=2)
        p2 = customer_voice(conn, window=window, topic="pricing", limit=2, offset=2)
    assert [q.snippet_id for q in p1.quotes + p2.quotes] == [q.snippet_id for q in full.quotes][:4]
    assert len({q.account_id for q in full.quotes[:3]}) == 3  # one account does not fill the top


def test_empty_window_is_proved_with_counts(engine: Engine) -> None:
    window = resolve_window("2026-11-01", as_of=AS_OF)
    with engine.connect() as conn:
        res = customer_voice(conn, window=window, cohort=_ids("A1", "A2"), topic="pricing",
                             cohort_label="best:2")
    assert res.total == 0 and res.quotes == []
    assert res.empty is not None
    assert res.empty.cohort_accounts == 2 and res.empty.snippets_matching_overall == 4
    assert "0 snippets on pricing from 2 accounts" in res.summary and "4 on pricing" in res.summary


def test_bad_topic_and_channel(engine: Engine) -> None:
    window = resolve_window("30d", as_of=AS_OF)
    with engine.connect() as conn:
        with pytest.raises(EngineError) as info:
            customer_voice(conn, window=window, topic="prices")
        assert info.value.field == "topic" and "pricing" in info.value.allowed
        with pytest.raises(EngineError) as info:
            customer_voice(conn, window=window, topic="pricing", channel="fax")
        assert info.value.field == "channel"
        with pytest.raises(EngineError):
            customer_voice(conn, window=window)


def test_hostile_question_text_stays_a_bound_value(engine: Engine) -> None:
    window = resolve_window("2026-01-01", as_of=AS_OF)
    with engine.connect() as conn:
        odd = customer_voice(conn, window=window, question="\x00\x07salesforce\r\n")
        quoted = customer_voice(conn, window=window, question="salesforce' OR 1=1; --")
    assert odd.quotes[0].conversation_id == "C4" and quoted.quotes[0].conversation_id == "C4"
    assert quoted.total == odd.total

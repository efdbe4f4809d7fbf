"""Snippets: speaker turns vs sentence windows, deterministic ids, topics and full-text search.

Each test runs on a DuckDB file and on PostgreSQL (the `target` fixture).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb_extension_fts
import pytest
from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.archive.fts import bm25_score, rebuild_fts_index
from icp_mcp.archive.schema import accounts, conversation_snippets, conversations
from icp_mcp.archive.snippets import build_snippets
from icp_mcp.archive.topics import Taxonomy, load_taxonomy, tag_topics
from sqlalchemy import insert, select, text

CALL = "Intro from the notetaker.\nCustomer: Your pricing is too high.\nWe need a discount.\nREP: Let me check.\n  sdr : ok then"
TICKET = "SSO login is broken! We cannot sign in. Please fix this today? Thanks.\n\nSecond paragraph here"
EMAIL = "Hello there. We compared you to Gong last week. The API docs are thin. Regards"


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, tmp_path) -> str:
    if request.param == "duckdb":
        url = str(tmp_path / "a.duckdb")
    else:
        url = request.getfixturevalue("pg_url")
    engine = open_archive(url, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"account_id": "A1", "name": "Acme"}])
        conn.execute(insert(conversations), [
            {"conversation_id": "C1", "account_id": "A1", "occurred_at": dt.datetime(2024, 1, 1),
             "channel": "call", "body": CALL},
            {"conversation_id": "C2", "account_id": "A1", "occurred_at": dt.datetime(2024, 1, 2),
             "channel": "ticket", "body": TICKET},
            {"conversation_id": "C3", "account_id": "A1", "occurred_at": dt.datetime(2024, 1, 3),
             "channel": "email", "body": EMAIL},
        ])
    engine.dispose()
    return url


def _rows(conn):
    q = select(conversation_snippets).order_by(conversation_snippets.c.snippet_id)
    return [r._asdict() for r in conn.execute(q)]


def test_turns_and_sentence_windows(target):
    engine = open_archive(target)
    with engine.begin() as conn:
        assert build_snippets(conn) == 9
        rows = _rows(conn)
    c1 = [(r["seq"], r["speaker"], r["text"]) for r in rows if r["conversation_id"] == "C1"]
    assert c1 == [
        (1, None, "Intro from the notetaker."),
        (2, "customer", "Your pricing is too high. We need a discount."),
        (3, "vendor", "Let me check."),
        (4, "vendor", "ok then"),
    ]
    c2 = [(r["speaker"], r["text"]) for r in rows if r["conversation_id"] == "C2"]
    assert c2 == [
        ("customer", "SSO login is broken! We cannot sign in."),
        ("customer", "Please fix this today? Thanks."),
        ("customer", "Second paragraph here"),
    ]
    c3 = [(r["speaker"], r["text"]) for r in rows if r["conversation_id"] == "C3"]
    assert c3 == [(None, "Hello there. We compared you to Gong last week."), (None, "The API docs are thin. Regards")]
    assert [r["snippet_id"] for r in rows] == list(range(1, 10))
    assert all(r["topics"] == "," and r["account_id"] == "A1" for r in rows)


def test_rebuild_is_deterministic_and_scoped(target):
    engine = open_archive(target)
    with engine.begin() as conn:
        build_snippets(conn)
        first = _rows(conn)
        build_snippets(conn)
        assert _rows(conn) == first
        assert build_snippets(conn, ["C2"]) == 3
        assert build_snippets(conn, []) == 0
        assert tag_topics(conn, [])["pricing"] == 0
        after = _rows(conn)
    assert len(after) == 9
    assert [r for r in after if r["conversation_id"] != "C2"] == [r for r in first if r["conversation_id"] != "C2"]
    assert len({r["snippet_id"] for r in after}) == 9


def test_topic_tagging_with_varied_phrasing(target):
    engine = open_archive(target)
    with engine.begin() as conn:
        build_snippets(conn)
        counts = tag_topics(conn)
        topics = {r["text"]: r["topics"] for r in _rows(conn)}
    assert topics["Your pricing is too high. We need a discount."] == ",pricing,"
    assert topics["SSO login is broken! We cannot sign in."] == ",security_compliance,support,"
    assert topics["Hello there. We compared you to Gong last week."] == ",competitors,"
    assert topics["The API docs are thin. Regards"] == ",integrations,"
    assert topics["ok then"] == ","
    assert counts["pricing"] == 1 and counts["competitors"] == 1 and counts["onboarding"] == 0
    assert set(counts) == set(load_taxonomy().ids)


@pytest.mark.parametrize(
    ("sentence", "topic"),
    [
        ("The licence fee went up again", "pricing"),
        ("They hit us with a renewal uplift of 12%", "pricing"),
        ("It is $40 a seat", "pricing"),
        ("Our budget is frozen until Q3", "pricing"),
        ("Legal wants your SOC-2 report and the DPA", "security_compliance"),
        ("Does it encrypt data at rest?", "security_compliance"),
        ("It syncs with Salesforce both ways", "integrations"),
        ("Can we hook it up through webhooks?", "integrations"),
        ("Implementation took us three months", "onboarding"),
        ("Go-live slipped because training was late", "onboarding"),
        ("We're still waiting on a reply from your support team", "support"),
        ("We are switching from Outreach", "competitors"),
        ("It saved us 10 hours a week", "roi_value"),
        ("It doesn't support custom objects", "product_gaps"),
        ("Is bulk edit on the roadmap?", "product_gaps"),
    ],
)
def test_shipped_taxonomy_catches_customer_language(sentence, topic):
    import re

    found = load_taxonomy().get(topic)
    assert found is not None
    assert re.search(found.regex(), sentence, re.IGNORECASE), (topic, sentence)


def test_custom_taxonomy_file(target, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(textwrap.dedent("""
        topics:
          - id: greetings
            label: Greetings
            phrases: [hello there]
          - id: tickets
            label: Tickets
            patterns: ['\\bfix (?:this|it)\\b']
    """))
    taxonomy = load_taxonomy(str(path))
    assert isinstance(taxonomy, Taxonomy) and taxonomy.ids == ["greetings", "tickets"]
    engine = open_archive(target)
    with engine.begin() as conn:
        build_snippets(conn)
        assert tag_topics(conn, ["C2", "C3"], taxonomy) == {"greetings": 1, "tickets": 1}
        untouched = conn.execute(text("SELECT count(*) FROM conversation_snippets WHERE conversation_id = 'C1' AND topics = ','")).scalar_one()
    assert untouched == 4


def test_bad_taxonomy_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("topics:\n  - id: Bad Id\n    label: x\n    phrases: [a]\n")
    with pytest.raises(ValueError, match="id"):
        load_taxonomy(str(path))


def _search(conn, query: str) -> list[tuple[str, float]]:
    score = bm25_score(conn, query).label("score")
    q = (
        select(conversation_snippets.c.text, score)
        .where(score.is_not(None))
        .order_by(score.desc(), conversation_snippets.c.snippet_id)
    )
    return [(r.text, r.score) for r in conn.execute(q)]


def test_full_text_search_finds_the_right_snippet(target):
    engine = open_archive(target)
    with engine.begin() as conn:
        build_snippets(conn)
        rebuild_fts_index(conn)
    with engine.connect() as conn:
        hits = _search(conn, "discount pricing")
        assert hits and hits[0][0] == "Your pricing is too high. We need a discount."
        assert _search(conn, "sso broken")[0][0] == "SSO login is broken! We cannot sign in."
        assert _search(conn, "zebra") == []
    rebuild_fts_index(engine)  # twice is fine


def test_search_on_read_only_reopen_without_network(tmp_path):
    """In a fresh process with no network and extension auto-install off, a read-only archive searches."""
    path = tmp_path / "a.duckdb"
    engine = open_archive(path, create=True)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"account_id": "A1", "name": "Acme"}])
        conn.execute(insert(conversations), [{"conversation_id": "C1", "account_id": "A1",
                     "occurred_at": dt.datetime(2024, 1, 1), "channel": "call", "body": CALL}])
        build_snippets(conn)
        rebuild_fts_index(conn)
    engine.dispose()
    script = textwrap.dedent(f"""
        import socket
        def _no_network(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = _no_network
        socket.create_connection = _no_network
        from sqlalchemy import select
        from icp_mcp.archive.db import fts_extension_path, open_archive
        from icp_mcp.archive.fts import bm25_score
        from icp_mcp.archive.schema import conversation_snippets as s
        engine = open_archive({str(path)!r}, read_only=True)
        with engine.connect() as conn:
            score = bm25_score(engine, "discount").label("score")
            rows = conn.execute(select(s.c.seq, score).where(score.is_not(None))).all()
            loaded = conn.exec_driver_sql(
                "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'fts'").scalar()
            autoinstall = conn.exec_driver_sql("SELECT current_setting('autoinstall_known_extensions')").scalar()
        print(rows[0][0], len(rows), loaded, autoinstall, fts_extension_path().startswith({str(Path(duckdb_extension_fts.__file__).parent)!r}))
    """)
    # HOME points at an empty folder (no cached ~/.duckdb extensions); where the OS allows it, the process also
    # runs in a network namespace of its own, so there is no network at all, not just no Python sockets.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9"}
    command = [sys.executable, "-c", script]
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], check=False, capture_output=True).returncode == 0:
        command = [unshare, "-rn", *command]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "1", "True", "False", "True"]

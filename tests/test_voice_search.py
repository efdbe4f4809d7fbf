"""customer_voice's DuckDB fast path (the search tables built with the FTS index, archive/fts.py) gives the
same answers as the general path, and a conversation ingest is searchable by the next question."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.fts import search_postings, search_snippets
from icp_mcp.archive.ingest import ingest_file
from icp_mcp.archive.schema import accounts, conversation_snippets
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions import voice
from icp_mcp.engine.questions.cohorts import resolve_cohort
from icp_mcp.engine.sql import cache

AS_OF = "2026-11-01"
#: (topic, question, cohort, since, extra arguments)
CASES = [
    (None, "annual prepay discount", "all", "90d", {}),
    (None, "pricing too expensive", "customers", "365d", {}),
    (None, "sso integration", "all", "last_month", {"limit": 5, "offset": 5}),
    (None, "onboarding support slow", "all", "2025-01-01", {"channel": "call"}),
    (None, "renewal contract", "customers", "180d", {"include_vendor": True}),
    ("pricing", None, "best:20", "last_month", {}),
    ("pricing", None, "all", "90d", {"limit": 7, "offset": 3}),
    ("security_compliance", None, "customers", "365d", {"channel": "email"}),
    ("integrations", None, "all", "30d", {"include_vendor": True}),
    ("pricing", "discount", "customers", "365d", {}),
    ("support", "slow response", "all", "90d", {"channel": "ticket"}),
    (None, "zzqx nothing matches this", "all", "90d", {}),
]


def _answer(engine: Engine, topic, question, cohort_spec, since, extra, *, fast: bool, monkeypatch):
    """One answer through the fast path or the general one; asserts which path read the archive."""
    cache.clear()
    if not fast:
        monkeypatch.setattr(voice, "_has_search", lambda conn: False)
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        window = resolve_window(since, as_of=AS_OF)
        cohort = resolve_cohort(engine, cohort_spec)
        with engine.connect() as conn:
            found = voice.customer_voice(conn, window=window, cohort=cohort.ids, cohort_label=cohort.label,
                                         topic=topic, question=question, value=voice.value_selectable(engine), **extra)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        monkeypatch.undo()
        cache.clear()
    assert any("voice_snippets" in s or "voice_postings" in s for s in seen) == fast
    return found


@pytest.fixture(scope="module")
def engine(demo_archive: Path) -> Iterator[Engine]:
    """The shared demo archive, released after the module: an instance left open in this worker would refuse
    a later test's plain `duckdb.connect` of the same file ("a different configuration")."""
    engine = open_archive(demo_archive, read_only=True)
    yield engine
    engine.dispose()


def test_the_demo_archive_has_the_search_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        assert voice._has_search(conn)
        n_snippets = conn.execute(select(func.count()).select_from(conversation_snippets)).scalar_one()
        assert conn.execute(select(func.count()).select_from(search_snippets)).scalar_one() == n_snippets
        assert conn.execute(select(func.count()).select_from(search_postings)).scalar_one() > n_snippets


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}|{c[1]}|{c[2]}|{c[3]}" for c in CASES])
def test_fast_path_answers_as_the_general_path(engine: Engine, case, monkeypatch) -> None:
    fast = _answer(engine, *case, fast=True, monkeypatch=monkeypatch)
    slow = _answer(engine, *case, fast=False, monkeypatch=monkeypatch)
    assert fast.model_dump() == slow.model_dump()
    if case[1] != "zzqx nothing matches this":
        assert fast.total > 0 and fast.quotes  # the cases ask something the demo holds


@pytest.mark.parametrize("case", [CASES[0], CASES[5], CASES[6]], ids=["question", "best20", "topic"])
def test_the_value_lookup_binds_few_accounts_or_reads_the_base(engine: Engine, case, monkeypatch) -> None:
    """The ARR lookup of a temporary base binds its accounts as a list when they are few, else reads them
    from the base: both give the same answer."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        listed = _answer(engine, *case, fast=True, monkeypatch=monkeypatch)
        bound = [s for s in seen if "arr_snapshots" in s]
        seen.clear()
        monkeypatch.setattr(voice, "MAX_BOUND_ACCOUNTS", 1)
        read = _answer(engine, *case, fast=True, monkeypatch=monkeypatch)
        subquery = [s for s in seen if "arr_snapshots" in s]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inner = "arr_snapshots.account_id IN (SELECT DISTINCT voice_base"
    assert bound and inner not in bound[-1] and "arr_snapshots.account_id IN ($" in bound[-1], "few: a list"
    assert subquery and inner in subquery[-1], "many accounts: read from the base"
    assert read.model_dump() == listed.model_dump() and listed.total > 0


def test_a_conversation_ingest_is_found_by_the_next_question(demo_archive: Path, tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_archive, path)
    engine = open_archive(path)
    with engine.connect() as conn:
        account = conn.execute(select(accounts.c.account_id).order_by(accounts.c.account_id).limit(1)).scalar_one()
    window = resolve_window("30d", as_of=AS_OF)
    question = "quibbleflux"

    def ask(**kw):
        with engine.connect() as conn:
            return voice.customer_voice(conn, window=window, question=question, **kw)

    assert ask().total == 0
    rows = [{"conversation_id": "KZ1", "account_id": account, "occurred_at": "2026-10-20 10:00", "channel": "call",
             "title": "Renewal", "body": "Rep: Thanks.\nCustomer: The quibbleflux pricing tier is too expensive."}]
    file = tmp_path / "conversations.csv"
    with file.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = ingest_file(engine, "conversations", str(file))
    assert report.loaded == 1
    with engine.connect() as conn:
        assert voice._has_search(conn)
    found = ask()
    assert found.quotes[0].conversation_id == "KZ1" and "quibbleflux" in found.quotes[0].text
    assert found.quotes[0].tone == "negative"
    assert {c.key: c.n for c in found.by_tone}["negative"] >= 1
    on_topic = ask(topic="pricing", cohort=select(accounts.c.account_id).where(accounts.c.account_id == account))
    assert "KZ1" in {q.conversation_id for q in on_topic.quotes}
    engine.dispose()

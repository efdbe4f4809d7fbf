"""The audit trail: rows in audit_log with redacted arguments, JSONL copy, read-only fallback, `audit tail`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import audit_log
from icp_mcp.server import audit
from icp_mcp.server.cli import app

runner = CliRunner()


def count(path: Path) -> int:
    engine = open_archive(path, read_only=True)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    finally:
        engine.dispose()


def test_the_audit_connection_outlives_the_pool_closing_its_connections(archive_path: Path) -> None:
    """Under load the pool closes overflow connections it does not need; the audit's own connection is
    detached from the pool, so entries keep reaching audit_log (bench_load found them all in the log)."""
    engine = open_archive(archive_path)
    try:
        assert audit.record(engine, subject="ana", tool="score_account", arguments={}, outcome="ok",
                            rows=1, duration_ms=1.0)
        engine.pool.dispose()  # what the pool does to overflow connections checked back in
        assert audit.record(engine, subject="bob", tool="score_account", arguments={}, outcome="ok",
                            rows=1, duration_ms=1.0)
        assert [r["subject"] for r in audit.tail(engine, n=10)] == ["ana", "bob"]
    finally:
        engine.dispose()


def test_record_writes_a_redacted_row(archive_path: Path, tmp_path: Path) -> None:
    engine = open_archive(archive_path)
    jsonl = tmp_path / "audit.jsonl"
    stored = audit.record(engine, subject="ana", tool="score_account",
                          arguments={"account": "Acme", "token": "icp_" + "z" * 40}, outcome="ok",
                          rows=1, duration_ms=12.3456, jsonl_path=jsonl)
    audit.record(engine, subject="bob", tool="customer_voice", arguments={"topic": "pricing"},
                 outcome=audit.error_outcome(ValueError("x")), rows=None, duration_ms=None)
    assert stored
    rows = audit.tail(engine, n=10)
    engine.dispose()
    assert [r["subject"] for r in rows] == ["ana", "bob"]
    assert rows[0]["arguments"]["account"] == "Acme" and "z" * 40 not in json.dumps(rows[0]["arguments"])
    assert rows[0]["duration_ms"] == pytest.approx(12.346) and rows[0]["rows"] == 1
    assert rows[1]["outcome"] == "error:ValueError"
    [line] = jsonl.read_text().splitlines()
    assert json.loads(line)["subject"] == "ana" and json.loads(line)["at"].endswith("Z")


def test_read_only_archive_falls_back_to_jsonl(archive_path: Path, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    engine = open_archive(archive_path, read_only=True)
    jsonl = tmp_path / "fallback.jsonl"
    with caplog.at_level(logging.WARNING, logger="icp_mcp.server.audit"):
        for _ in range(3):
            stored = audit.record(engine, subject="ana", tool="best_customers", arguments={"limit": 5},
                                  outcome="denied", jsonl_path=jsonl)
            assert stored is False
    engine.dispose()
    assert len(jsonl.read_text().splitlines()) == 3
    assert sum("audit_log not writable" in r.message for r in caplog.records) == 1  # warned once
    assert count(archive_path) == 0


def test_record_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="icp_mcp.server.audit"):
        assert audit.record(None, subject="x", tool="t", arguments=object(), outcome="ok") is False
        assert audit.record(None, subject="x", tool="t", arguments={}, outcome="ok",
                            jsonl_path=tmp_path / "missing-dir" / "a.jsonl") is False
    assert any("audit:" in r.message for r in caplog.records)


def test_default_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "default.jsonl"
    audit.set_default_jsonl(path)
    try:
        audit.record(None, subject="s", tool="t", arguments={}, outcome="ok")
    finally:
        audit.set_default_jsonl(None)
    assert json.loads(path.read_text())["tool"] == "t"


def test_audit_tail_cli(archive_path: Path) -> None:
    engine = open_archive(archive_path)
    for i in range(5):
        audit.record(engine, subject="ana" if i % 2 else "bob", tool=f"tool{i}", arguments={"i": i},
                     outcome="ok", rows=i, duration_ms=1.0)
    audit.flush()  # entries after the first are committed by the background writer
    engine.dispose()
    result = runner.invoke(app, ["audit", "tail", "--archive", str(archive_path), "-n", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["tool"] for line in result.stdout.splitlines()] == ["tool3", "tool4"]
    only_ana = runner.invoke(app, ["audit", "tail", "--archive", str(archive_path), "--subject", "ana", "--json"])
    assert {json.loads(line)["subject"] for line in only_ana.stdout.splitlines()} == {"ana"}
    table = runner.invoke(app, ["audit", "tail", "--archive", str(archive_path)])
    assert table.exit_code == 0 and "tool4" in table.stdout
    missing = runner.invoke(app, ["audit", "tail", "--archive", str(archive_path.parent / "nope.duckdb")])
    assert missing.exit_code == 2 and "not found" in missing.output and "Traceback" not in missing.output


def test_batched_entries_arrive_in_order(archive_path: Path) -> None:
    engine = open_archive(archive_path)
    for i in range(300):
        assert audit.record(engine, subject="load", tool=f"t{i}", arguments={}, outcome="ok")
    rows = audit.tail(engine, n=1000, subject="load")  # tail flushes the queue first
    engine.dispose()
    assert [r["tool"] for r in rows] == [f"t{i}" for i in range(300)]


def test_calls_arriving_during_a_commit_share_the_next_one(archive_path: Path, monkeypatch) -> None:
    """Group commit: while one entry's commit runs, entries of 7 other calls wait and are stored together in
    the next commit; each call returns only after its own entry is stored (read back in full)."""
    import threading

    engine = open_archive(archive_path)
    batches: list[list[str]] = []
    release = threading.Event()
    real = audit._insert_now

    def held_first(engine_, entries):
        batches.append([e["tool"] for e in entries])
        if len(batches) == 1:
            release.wait(30)  # the first commit is "slow" until the others are queued behind it
        return real(engine_, entries)

    monkeypatch.setattr(audit, "_insert_now", held_first)
    try:
        first = threading.Thread(target=audit.record, args=(engine,),
                                 kwargs=dict(subject="g", tool="t0", arguments={}, outcome="ok"))
        first.start()
        while not batches:
            threading.Event().wait(0.01)
        others = [threading.Thread(target=audit.record, args=(engine,),
                                   kwargs=dict(subject="g", tool=f"t{i}", arguments={}, outcome="ok"))
                  for i in range(1, 8)]
        for t in others:
            t.start()
        group = audit._groups[engine]
        while len(group.pending) < 7:
            threading.Event().wait(0.01)
        release.set()
        for t in [first, *others]:
            t.join(30)
        assert batches[0] == ["t0"] and sorted(batches[1]) == [f"t{i}" for i in range(1, 8)] and len(batches) == 2
        assert sorted(r["tool"] for r in audit.tail(engine, n=100, subject="g")) == [f"t{i}" for i in range(8)]
    finally:
        release.set()
        engine.dispose()


def _refusals_keep_their_reason(target: str) -> None:
    """An archive made before audit_log had the reason column (schema revision 0003) is migrated by the
    first writer that opens it, and refusals then keep their reason in that column."""
    from sqlalchemy import inspect, text

    from icp_mcp.archive.opening import open_checked

    old = open_archive(target)
    with old.begin() as conn:
        conn.execute(text("DROP INDEX ix_audit_log_subject"))  # DuckDB alters no table an index depends on
        conn.execute(text("ALTER TABLE audit_log DROP COLUMN reason"))
        conn.execute(text("CREATE INDEX ix_audit_log_subject ON audit_log (subject)"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    old.dispose()
    engine = open_checked(target)  # a writer migrates 0003 -> HEAD
    try:
        _record_and_check(engine)
        assert [i["name"] for i in inspect(engine).get_indexes("audit_log")] == ["ix_audit_log_subject"]
    finally:
        engine.dispose()


def _record_and_check(engine) -> None:
    audit.record(engine, subject="ana", tool="score_account", arguments={"account": "A0000413"}, outcome="denied",
                 rows=0, duration_ms=1.0, reason="account outside the caller's territories (EMEA)")
    audit.record(engine, subject="ana", tool="best_customers", arguments={}, outcome="ok", rows=3, duration_ms=1.0)
    denied, fine = audit.tail(engine, n=2)
    assert denied["outcome"] == "denied" and denied["reason"] == "account outside the caller's territories (EMEA)"
    assert fine["reason"] is None and "_reason" not in denied["arguments"]


def test_refusals_keep_their_reason_on_an_old_archive(archive_path: Path) -> None:
    _refusals_keep_their_reason(str(archive_path))


@pytest.mark.postgres
def test_refusals_keep_their_reason_on_postgres(pg_url: str) -> None:
    from icp_mcp.archive.db import create_schema

    engine = open_archive(pg_url)
    create_schema(engine)
    engine.dispose()
    _refusals_keep_their_reason(pg_url)

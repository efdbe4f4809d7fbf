"""ICP state kept in the archive (engine/scoring/state.py) and the one cache keyed by the archive generation.

The stored state must equal a fresh recomputation, every reader must give the same answer from it as from a
recomputation, an ingest must be seen by the next call, and a fresh process must answer from the stored state
(asserted through the cache's computation counters, never a timer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client
from sqlalchemy import Engine, delete, func, select, update

from icp_mcp.archive.clock import today
from icp_mcp.archive.db import open_archive
from icp_mcp.archive.ingest import ingest_file
from icp_mcp.archive.schema import (
    accounts, icp_account_state, icp_best_profiles, icp_customer_state, icp_similar_candidates, icp_state,
)
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions import adoption, drift, value
from icp_mcp.engine.questions.disqualifiers import explain_disqualifier
from icp_mcp.engine.questions.cohorts import resolve_cohort
from icp_mcp.engine.scoring import one, state
from icp_mcp.engine.scoring.batch import account_scores_query
from icp_mcp.engine.sql import cache, versions
from icp_mcp.engine.sql.value_sql import ranked_customers_query
from icp_mcp.server.app import archive_of, build_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def engine(icp_demo_copy: Path):
    eng = open_archive(icp_demo_copy)
    cache.clear()
    yield eng
    eng.dispose()
    cache.clear()


def _forget_state(engine: Engine) -> None:
    """Drop the stored header so every reader recomputes (and forget what the cache holds)."""
    with engine.begin() as conn:
        conn.execute(delete(icp_state))
    cache.clear()


def test_stored_state_equals_a_fresh_recomputation_for_every_account(engine: Engine) -> None:
    definition = versions.active_icp(engine)
    version = state.account_version(engine, definition)
    assert version is not None, "the fixture stores the state at activation"
    assert state.technology_bits(engine, version) == state.named_technologies(definition) != (), \
        "the demo ICP names technologies: similar search compares them as bits"
    with engine.connect() as conn:
        stored = {r.account_id: r for r in conn.execute(select(icp_account_state))}
        fresh = {r.account_id: r for r in conn.execute(account_scores_query(definition, engine))}
        customers = {r.account_id: r for r in conn.execute(select(icp_customer_state))}
        ranked = {r.account_id: r for r in conn.execute(ranked_customers_query(None, definition.value_weights))}
        n_accounts = conn.execute(select(accounts.c.account_id)).all()
    assert len(stored) == len(fresh) == len(n_accounts) == 2000
    for aid, f in fresh.items():  # the batch SQL path
        s = stored[aid]
        assert (s.points, s.disqualified, s.tier) == (f.points, f.disqualified, f.tier), aid
        assert s.fit_score == pytest.approx(f.fit_score), aid
    window = definition.trigger_window_days
    wanted = sorted(set(state.SIMILAR_ATTRIBUTES) | set(definition.attributes_used()) | {"trigger"})
    for aid, s in stored.items():  # the one-account Python path (the same rule `score_account` applies)
        result = one.evaluate(definition, one.account_rows(engine, aid, wanted, window))
        hits = [h.id for h in result["disqualifiers"]]
        assert s.points == result["points"], aid
        assert s.segments == "," + "".join(f"{x}," for x in result["segments"]), aid
        assert s.disqualifier == (hits[0] if hits else None), aid
        assert s.tier == definition.tiers.tier(result["points"], bool(hits)), aid
        assert round(s.fit_score, 1) == definition.fit_score(result["points"]), aid
    sample = sorted(stored)[::40] + [a for a, s in stored.items() if s.disqualified][:20]
    for aid in sample:  # win probability as score_account reports it
        scored = one.score_account(engine, definition, account=aid)
        assert scored.win_probability == pytest.approx(stored[aid].win_probability, abs=5e-5), aid
    assert customers.keys() == ranked.keys() and len(customers) > 100
    for aid, r in ranked.items():
        c = customers[aid]
        assert (c.rank, bool(c.in_best), c.first_won_at) == (r.rank, bool(r.in_best), r.first_won_at), aid
        for col in ("value_score", "arr", "lifetime_revenue", "nrr", "time_to_value_days", "tickets_per_month"):
            assert getattr(c, col) == pytest.approx(getattr(r, col)), (aid, col)


def _answers(engine: Engine) -> dict:
    """Every stored-state reader's answer: cohorts, best customers (pages, top N, segment), adoption by segment,
    tier and ICP, drift, explained disqualifiers, similar customers."""
    definition = versions.active_icp(engine)
    seg = definition.segments[0].id
    out: dict = {}
    for spec in ("best", "best:20", "icp", "tier:A", "tier:C,D", f"segment:{seg}"):
        cohort = resolve_cohort(engine, spec, definition=definition)
        with engine.connect() as conn:
            ids = sorted(conn.execute(select(cohort.ids.subquery().c[0])).scalars())
        out[spec] = (cohort.size, ids)
    for kwargs in ({}, {"offset": 20}, {"top_n": 30}, {"segment": seg}, {"territories": ["EMEA"]}):
        out[f"best_customers {kwargs}"] = value.best_customers(engine, definition=definition, **kwargs).model_dump()
    assert definition.disqualifiers, "the demo ICP has disqualifiers"
    for rule in definition.disqualifiers:  # explain's exceptions and recent deals, under three views
        for view in (None, ["EMEA"], []):
            out[f"explain {rule.id} {view}"] = explain_disqualifier(engine, definition, rule_id=rule.id,
                                                                   territories=view).model_dump()
    window = resolve_window("365d", as_of="2026-11-01")
    for by in ("segment", "tier", "icp"):  # adoption groups read the stored segments and tiers
        out[f"adoption {by}"] = adoption.feature_adoption(engine, feature="sso", by=by, window=window,
                                                          definition=definition).model_dump()
    for days in ("90d", "365d"):  # drift sums the stored facts
        recent = resolve_window(days, as_of="2026-11-01", fields=("window", "until"))
        out[f"drift {days}"] = drift.check_drift(engine, definition, recent=recent).model_dump()
    for aid in sorted(out["icp"][1])[:5] + sorted(out["tier:C,D"][1])[:5]:
        scored = one.score_account(engine, definition, account=aid)
        out[f"similar {aid}"] = scored.similar_best_customers
        out[f"similar {aid} in its territory"] = one.score_account(  # named, or described for an anonymous caller
            engine, definition, account=aid, territories=[scored.territory],
            anonymous=aid[-1] in "02468").similar_best_customers
    return out


def test_every_reader_gives_the_same_answer_from_stored_state_as_from_a_recomputation(engine: Engine) -> None:
    stored = _answers(engine)
    used = cache.computations()
    assert not {"cohort_ids", "best_ranking", "best_index", "disqualifier_facts", "drift_baseline"} & used.keys(), used
    _forget_state(engine)
    recomputed = _answers(engine)
    used = cache.computations()
    assert {"cohort_ids", "best_ranking", "best_index", "disqualifier_facts", "drift_baseline"} <= used.keys(), used
    assert stored.keys() == recomputed.keys()
    for key in stored:  # sums may differ in the last bit (SQL sum vs Python sum): 10 significant digits
        assert _rounded(stored[key]) == _rounded(recomputed[key]), key


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def test_the_generation_bumps_on_activation_and_ingest_and_keys_the_cache(engine: Engine, tmp_path: Path) -> None:
    before = cache.generation(engine)
    definition = versions.active_icp(engine)
    again = versions.save_version(engine, definition, "tests")
    versions.activate(engine, again, "tests")
    after_activation = cache.generation(engine)
    assert after_activation == before + 1
    assert state.account_version(engine, definition) is None, "a new generation makes the stored state stale"
    assert state.build(engine) is not None and state.account_version(engine, definition) == again
    path = _account_file(engine, tmp_path / "one.jsonl", "A0000018", "Retail")
    ingest_file(engine, "accounts", str(path))
    cache.forget_generation(engine)
    assert cache.generation(engine) == after_activation + 1, "an ingest that changed a row bumps it"
    ingest_file(engine, "accounts", str(path))  # the same file again: nothing changes, no new generation
    cache.forget_generation(engine)
    assert cache.generation(engine) == after_activation + 1


def _account_file(engine: Engine, path: Path, account_id: str, industry: str) -> Path:
    """One account's row as JSONL, with another industry (every other column as stored)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"COPY (SELECT * REPLACE ('{industry}' AS industry) FROM accounts "
                             f"WHERE account_id = '{account_id}') TO '{path}' (FORMAT json)")
    return path


def _industry_change(engine: Engine, definition) -> tuple[str, str, str]:
    """A tier-A account, an industry that disqualifies (the demo plants one) and that disqualifier's id."""
    rule = next(d for d in definition.disqualifiers if d.attribute == "industry")
    s = icp_account_state.c
    with engine.connect() as conn:
        aid = conn.execute(select(s.account_id).where(s.tier == "A").order_by(s.account_id).limit(1)).scalar_one()
    return aid, rule.accepted()[0], rule.id


async def test_an_ingest_that_changes_an_industry_is_seen_by_the_next_call_in_the_same_server(
        icp_demo_copy: Path, tmp_path: Path) -> None:
    cache.clear()
    server = build_server(str(icp_demo_copy))
    handle = archive_of(server)
    try:
        definition = versions.active_icp(handle.engine)
        aid, industry, rule_id = _industry_change(handle.engine, definition)
        async with Client(server) as client:
            ask = {"account": aid, "detail": True}  # detail: the scored attribute values too
            first = (await client.call_tool("score_account", ask)).structured_content["score"]
            path = _account_file(handle.engine, tmp_path / "industry.jsonl", aid, industry)
            report = handle.write(ingest_file, "accounts", str(path))
            assert report.updated == 1
            builds = cache.computations().get("state_build", 0)
            second = (await client.call_tool("score_account", ask)).structured_content["score"]
        assert second["attributes"]["industry"] == industry != first["attributes"]["industry"]
        assert (first["tier"], second["tier"]) == ("A", "D")
        assert rule_id in {d["id"] for d in second["disqualifiers"]} - {d["id"] for d in first["disqualifiers"]}
        assert cache.computations().get("state_build", 0) == builds + 1, "the next call stored the new state"
        _wait_until_current(handle.engine)  # a loaded machine may take longer than the call waits
        with handle.engine.connect() as conn:
            row = conn.execute(select(icp_account_state).where(icp_account_state.c.account_id == aid)).one()
        assert (row.points, row.tier) == (second["points"], second["tier"])
    finally:
        handle.close()
        cache.clear()


def _wait_until_current(engine: Engine, seconds: float = 120.0) -> None:
    import time

    stop = time.monotonic() + seconds
    while state.is_stale(engine):
        assert time.monotonic() < stop, "the background state build did not finish"
        time.sleep(0.2)


_FRESH = """
import asyncio, json, sys
from mcp import Client
from icp_mcp.engine.sql import cache
from icp_mcp.server.app import archive_of, build_server

async def main():
    server = build_server(sys.argv[1], read_only=True)
    async with Client(server) as client:
        out = {}
        answers = out["_answers"] = {}
        for tool, args in json.loads(sys.argv[2]):
            result = await client.call_tool(tool, args)
            assert not result.is_error, result.content
            out[tool] = cache.computations()
            answers[tool] = result.structured_content
    archive_of(server).close()
    print(json.dumps(out))

asyncio.run(main())
"""


def _fresh_process(path: Path, calls: list) -> dict:
    done = subprocess.run([sys.executable, "-c", _FRESH, str(path), json.dumps(calls)], capture_output=True,
                          text=True, timeout=300, cwd=REPO, env={**os.environ})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _first_rule(path: Path) -> str:
    engine = open_archive(path, read_only=True)
    try:
        return versions.active_icp(engine).disqualifiers[0].id
    finally:
        engine.dispose()


def test_a_fresh_process_answers_its_first_calls_from_the_stored_state(icp_demo_copy: Path) -> None:
    calls = [["score_account", {"account": "A0000018"}], ["best_customers", {"limit": 5}],
             ["customer_voice", {"cohort": "icp", "topic": "pricing"}],
             ["explain_disqualifier", {"rule_id": _first_rule(icp_demo_copy)}]]
    used = _fresh_process(icp_demo_copy, calls)
    recompute = {"cohort_ids", "best_ranking", "best_index", "state_build", "tiers", "disqualifier_facts"}
    used.pop("_answers")
    for tool, counters in used.items():
        assert not recompute & counters.keys(), (tool, counters)
    assert used["score_account"].get("similar_candidates") == 1, "similar customers from the stored candidates"
    assert used["explain_disqualifier"].get("stored_rule_facts") == 1


def _state_built_the_day_before(path: Path) -> date:
    """Move the stored state's day one back: the archive as a process finds it the morning after the state
    was built (same generation: nothing was written since)."""
    engine = open_archive(path)
    try:
        with engine.begin() as conn:
            day = conn.execute(select(icp_state.c.as_of)).scalar_one()
            day = day.date() if isinstance(day, datetime) else day
            conn.execute(update(icp_state).values(as_of=day - timedelta(days=1)))
    finally:
        engine.dispose()
        cache.clear()
    return day - timedelta(days=1)


def test_the_morning_after_a_fresh_read_only_process_answers_from_the_earlier_days_state(
        icp_demo_copy: Path) -> None:
    """A new day does not make the first calls recompute the archive (at 1M accounts that outlasted a call):
    the earlier day's state of the same generation answers, and best_customers says which day it ranks."""
    before = _state_built_the_day_before(icp_demo_copy)
    calls = [["score_account", {"account": "A0000018"}], ["best_customers", {"limit": 5}],
             ["customer_voice", {"cohort": "icp", "topic": "pricing"}],
             ["explain_disqualifier", {"rule_id": _first_rule(icp_demo_copy)}]]
    used = _fresh_process(icp_demo_copy, calls)
    answers = used.pop("_answers")
    recompute = {"cohort_ids", "best_ranking", "best_index", "state_build", "tiers", "disqualifier_facts"}
    for tool, counters in used.items():
        assert not recompute & counters.keys(), (tool, counters)
    assert f"ranking as stored on {before.isoformat()}" in answers["best_customers"]["rule"]


async def test_the_morning_after_a_writing_server_answers_at_once_and_rebuilds_the_state_for_today(
        icp_demo_copy: Path) -> None:
    _state_built_the_day_before(icp_demo_copy)
    cache.clear()
    server = build_server(str(icp_demo_copy), warm=True)  # as `serve`: the warm-up starts the rebuild
    handle = archive_of(server)
    try:
        async with Client(server) as client:
            first = await client.call_tool("best_customers", {"limit": 5})
            assert not first.is_error, first.content
            assert "best_ranking" not in cache.computations(), "the first call did not recompute the ranking"
            _wait_until_current(handle.engine)
            assert cache.computations().get("state_build") == 1
            assert {h.as_of for h in state.headers(handle.engine)} == {today()}
            again = await client.call_tool("best_customers", {"limit": 5})
        assert "ranking as stored on" not in again.structured_content["rule"], "not a kept answer of the old state"
    finally:
        handle.close()
        cache.clear()


_LONG_WRITE = """
import sys, threading, time
from sqlalchemy import text
from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.surface.archive_access import ArchiveHandle
engine = open_archive(sys.argv[1], create=True)
create_schema(engine)
engine.dispose()
handle = ArchiveHandle(sys.argv[1])
started = threading.Event()

def long_write(engine):
    with engine.connect() as conn:
        started.set()
        return conn.execute(text("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3")).scalar()

def run():
    try:
        handle.write(long_write)
    except Exception as exc:
        print("stopped", type(exc).__name__, flush=True)

thread = threading.Thread(target=run, daemon=True)
thread.start()
handle.stop_on_close(thread)  # as a background state build registers itself
started.wait(30)
time.sleep(0.3)
handle.close()
print("closed", thread.is_alive(), flush=True)
"""


def test_closing_the_archive_stops_a_background_writer_so_the_process_exits_cleanly(tmp_path: Path) -> None:
    """A process that ends (`icp-mcp call` on a stale state) while a background state build runs: `close`
    interrupts it and waits for its rollback. Before, the interpreter exited with DuckDB still working in the
    thread and the process aborted (exit 134) after printing its answer."""
    done = subprocess.run([sys.executable, "-c", _LONG_WRITE, str(tmp_path / "a.duckdb")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "terminate called" not in done.stderr
    assert done.stdout.split() == ["stopped", "DatabaseError", "closed", "False"], done.stdout


async def test_a_state_without_similar_candidates_answers_and_a_writer_rebuilds_it(icp_demo_copy: Path) -> None:
    """An archive migrated to revision 0010 keeps its state without candidates: it answers at once (similar
    customers from every best profile) while a writing server rebuilds it with them; closing never leaves
    the build running."""
    engine = open_archive(icp_demo_copy)
    with engine.begin() as conn:
        conn.execute(update(icp_state).values(similar_key=None))
        conn.execute(delete(icp_similar_candidates))
    engine.dispose()
    cache.clear()
    server = build_server(str(icp_demo_copy), warm=True)
    handle = archive_of(server)
    try:
        async with Client(server) as client:
            first = await client.call_tool("score_account", {"account": "A0000018"})
            assert not first.is_error, first.content
            _wait_until_current(handle.engine)
        assert all(h.similar_key for h in state.headers(handle.engine))
        with handle.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(icp_similar_candidates)).scalar_one() > 0
    finally:
        handle.close()
        cache.clear()
    assert not any(t.is_alive() for t in handle._background)


@pytest.mark.parametrize("read_only", [True, False])
def test_the_start_up_warm_up_reads_what_every_first_call_needs(icp_demo_copy: Path, read_only: bool) -> None:
    """`serve` (build_server(warm=True)) reads the generation, the active ICP and the state header in the
    background before the first call, read-only or not; the first call then reads none of them again. It
    readies the audit (a read-only archive is known as such before any call), then primes the score path
    from the stored state without recomputing anything."""
    from icp_mcp.server import audit

    cache.clear()
    server = build_server(str(icp_demo_copy), read_only=read_only, warm=True)
    handle = archive_of(server)
    try:
        assert handle.warming is not None
        handle.warming.join(60)
        done = cache.computations()
        assert done.get("active_icp") == 1 and done.get("state_header") == 1, done
        assert done.get("generation_reads", 0) >= 1, done
        assert done.get("primed") == 1 and done.get("similar_candidates") == 1, done
        assert not {"cohort_ids", "best_ranking", "best_index", "tiers"} & done.keys(), done
        assert handle.engine in audit._audit_conn
        assert audit._writable.get(handle.engine, True) is (not read_only)
    finally:
        handle.close()
        cache.clear()


def test_without_stored_state_a_fresh_read_only_process_recomputes(icp_demo_copy: Path) -> None:
    """The counters can fail: with the state gone the same calls recompute the cohort and the index."""
    engine = open_archive(icp_demo_copy)
    _forget_state(engine)
    engine.dispose()
    used = _fresh_process(icp_demo_copy, [["score_account", {"account": "A0000018"}],
                                          ["best_customers", {"limit": 5}]])
    assert used["score_account"].get("best_index") == 1
    assert used["best_customers"].get("best_ranking") == 1


async def test_activation_through_the_tool_stores_the_state_with_progress_notifications(icp_demo_copy: Path) -> None:
    cache.clear()
    server = build_server(str(icp_demo_copy))
    handle = archive_of(server)
    try:
        definition = versions.active_icp(handle.engine)
        draft = versions.save_version(handle.engine, definition.model_copy(update={"name": "Again"}), "tests")
        messages: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            messages.append(message or "")

        async with Client(server) as client:
            result = await client.call_tool("activate_icp", {"version": draft, "confirm": True},
                                            progress_callback=on_progress)
        assert not result.is_error, result.content
        assert any(m.startswith("ICP state") for m in messages), messages
        assert state.account_version(handle.engine, versions.active_icp(handle.engine)) == draft
    finally:
        handle.close()
        cache.clear()


def test_the_cli_stores_the_state_when_it_activates(icp_demo_copy: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from icp_mcp.server.cli import app

    runner, exported = CliRunner(), tmp_path / "icp.yaml"
    archive = str(icp_demo_copy)
    assert runner.invoke(app, ["icp", "export", "--archive", archive, "--out", str(exported)]).exit_code == 0
    done = runner.invoke(app, ["icp", "import", str(exported), "--archive", archive, "--activate"])
    assert done.exit_code == 0, done.output
    assert "ICP state of version 2 stored" in done.output
    cache.clear()
    engine = open_archive(icp_demo_copy, read_only=True)
    try:
        assert state.account_version(engine, versions.active_icp(engine)) == 2
    finally:
        engine.dispose()


def test_similar_candidates_find_what_a_scan_of_every_best_profile_finds(engine: Engine) -> None:
    """The stored candidates (a few best profiles per group alike in the compared values and territory) give
    the same 3 closest best customers as a scan of every best profile: for best customers themselves (their
    own row excluded), for other accounts, in every caller's view, named or described."""
    definition = versions.active_icp(engine)
    version = state.customer_version(engine, definition.value_weights)
    assert version is not None and state.candidates_answer(engine, version, definition)
    with engine.connect() as conn:
        n_candidates = conn.execute(select(func.count()).select_from(icp_similar_candidates)).scalar_one()
        n_profiles = conn.execute(select(func.count()).select_from(icp_best_profiles)).scalar_one()
        best = sorted(conn.execute(select(icp_best_profiles.c.account_id)).scalars())
        everyone = sorted(conn.execute(select(accounts.c.account_id)).scalars())
    assert 0 < n_candidates < n_profiles, (n_candidates, n_profiles)
    wanted = sorted(set(state.SIMILAR_ATTRIBUTES) | set(definition.attributes_used()) | {"trigger"})
    views = [(None, False), (["EMEA"], False), (["NA", "APAC"], False), (["EMEA"], True)]
    compared = found = 0
    for aid in best[::9] + everyone[::50]:  # ~300 comparisons (730 with every 4th best customer: the same)
        rows = one.account_rows(engine, aid, wanted, definition.trigger_window_days)
        mine = one._shared_facts(definition, rows)
        for territories, anonymous in views:
            args = (engine, version, mine, aid, 3, territories, anonymous)
            few = one._similar_stored(*args, table=icp_similar_candidates)
            assert few == one._similar_stored(*args, table=icp_best_profiles), (aid, territories, anonymous)
            compared, found = compared + 1, found + len(few)
    assert compared > 250 and found > 500, (compared, found)


def test_similar_candidates_answer_only_for_a_definition_they_were_grouped_for(engine: Engine) -> None:
    """A definition comparing an attribute the candidates were not grouped by (or naming a technology
    outside the stored bits) is answered by the scan of every best profile."""
    definition = versions.active_icp(engine)
    version = state.customer_version(engine, definition.value_weights)
    stored_key = state.similar_key(definition)
    other = next(a for a in ("business_model", "founded_year", "funding_stage") if a not in stored_key)
    wider = definition.model_copy(update={"criteria": [*definition.criteria, definition.criteria[0].model_copy(
        update={"attribute": other, "value": None, "values": ["x"], "range": None})]})
    assert other in state.similar_key(wider) and not state.candidates_answer(engine, version, wider)
    tech = next(c for c in definition.criteria if c.attribute == "technology")
    more = definition.model_copy(update={"criteria": [*definition.criteria, tech.model_copy(
        update={"value": None, "values": ["NotAStoredTool"], "range": None})]})
    assert not state.candidates_answer(engine, version, more)
    cache.clear()
    one.similar_best(engine, wider, {"industry": [("Software", None)], other: [("x", None)]}, None)
    assert cache.computations().get("similar_stored") == 1


def test_the_best_profiles_table_holds_every_compared_single_valued_attribute() -> None:
    """Similar-customer search compares SIMILAR_ATTRIBUTES; the stored profile has a column for each
    single-valued one (archive/ cannot import the engine's catalogue, so the two lists are checked here)."""
    from icp_mcp.archive.schema import SIMILAR_COLUMNS

    assert [a for a in state.SIMILAR_ATTRIBUTES if a != "technology"] == list(SIMILAR_COLUMNS)

"""check_drift from the stored drift facts (engine/sql/drift_facts.py) gives the answers counted from the deals:
on a `--drift` demo archive for several windows and baselines, and on PostgreSQL as on DuckDB."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_engine_synth import build_synthetic, synthetic_archive

from icp_mcp.archive.db import create_schema, open_archive
from icp_mcp.engine.derivation.derive import derive_icp
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.engine.questions import drift
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache, versions

pytestmark = pytest.mark.slow

AS_OF = date(2026, 11, 1)

def _activate(engine) -> None:
    """Derive from deals closed before the last 90 days, activate it and store its ICP state."""
    definition = derive_icp(engine, closed_before=AS_OF - timedelta(days=89))
    versions.activate(engine, versions.save_version(engine, definition, "tests"), "tests")
    state.build(engine)

def _both(engine, monkeypatch, recent, baseline=None) -> tuple[dict, dict, bool]:
    """(answer from the facts, answer counted from the deals, whether the facts were read)."""
    definition = versions.active_icp(engine)
    used: list[bool] = []
    facts = drift._from_facts

    def spy(*args):
        found = facts(*args)
        used.append(found is not None)
        return found

    cache.clear()
    monkeypatch.setattr(drift, "_from_facts", spy)
    stored = drift.check_drift(engine, definition, recent=recent, baseline=baseline).model_dump()
    monkeypatch.setattr(drift, "_from_facts", lambda *args: None)
    cache.clear()
    counted = drift.check_drift(engine, definition, recent=recent, baseline=baseline).model_dump()
    monkeypatch.setattr(drift, "_from_facts", facts)
    return stored, counted, all(used)

def test_drift_from_the_stored_facts_equals_counting_the_deals(demo_archive_factory, tmp_path: Path,
                                                               monkeypatch) -> None:
    path = tmp_path / "drift.duckdb"
    shutil.copy(demo_archive_factory(seed=11, drift=True), path)
    engine = open_archive(path)
    try:
        _activate(engine)
        verdicts = set()
        for days in ("7d", "30d", "90d", "365d"):
            for baseline in (None, "2024-01-01..2025-06-30"):
                recent = resolve_window(days, as_of=AS_OF.isoformat(), fields=("window", "until"))
                stored, counted, from_facts = _both(engine, monkeypatch, recent, baseline)
                assert from_facts, (days, baseline)
                assert stored == counted, (days, baseline)
                verdicts.add(stored["verdict"])
        assert {"refresh", "insufficient_data"} <= verdicts  # the planted shift and a short window
        # a baseline overlapping the recent window counts the deals (deals in both count as recent)
        recent = resolve_window("90d", as_of=AS_OF.isoformat(), fields=("window", "until"))
        stored, counted, from_facts = _both(engine, monkeypatch, recent, "2024-01-01..2026-10-01")
        assert not from_facts and stored == counted
    finally:
        engine.dispose()

def test_drift_from_the_stored_facts_agrees_between_postgres_and_duckdb(pg_url, tmp_path, monkeypatch) -> None:
    pg = open_archive(pg_url)
    create_schema(pg)
    build_synthetic(pg, n_accounts=400, seed=4)
    duck, _ = synthetic_archive(tmp_path / "same.duckdb", n_accounts=400, seed=4)
    try:
        for engine in (pg, duck):
            definition = derive_icp(engine)
            versions.activate(engine, versions.save_version(engine, definition, "tests"), "tests")
            state.build(engine)
        recent = resolve_window("365d", None, date(2025, 6, 1), fields=("window", "until"))
        stored_pg, counted_pg, used_pg = _both(pg, monkeypatch, recent)
        stored_duck, counted_duck, used_duck = _both(duck, monkeypatch, recent)
        assert used_pg and used_duck
        assert stored_pg["verdict"] != "insufficient_data"
        assert stored_pg == counted_pg == stored_duck == counted_duck
    finally:
        pg.dispose()
        duck.dispose()

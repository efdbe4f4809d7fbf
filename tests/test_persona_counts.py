"""Persona counts: the DuckDB bit-mask path gives the portable GROUPING SETS path's counts, and the per-day
counts kept with the stored state give what counting the deals and snippets gives, for any cut."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import icp_persona_facts
from icp_mcp.engine.derivation import personas
from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import cache, persona_sql
from icp_mcp.engine.sql.labels import closed_deals_where

CUTS = [None, date(2026, 3, 1), date(2025, 11, 15)]


@pytest.fixture
def engine(demo_archive):
    """The shared demo archive, released after each test (an instance left open in the worker would refuse
    a later plain `duckdb.connect` of the same file)."""
    engine = open_archive(demo_archive, read_only=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def stored(icp_demo, tmp_path_factory):
    """A copy of the demo archive with its ICP activated and its state stored (persona facts included)."""
    engine = open_archive(str(icp_demo.copy_to(tmp_path_factory.mktemp("persona"))), read_only=True)
    yield engine
    engine.dispose()


def _rows(conn, where, *, by_day: bool, masked: bool):
    query = (persona_sql._masked(conn, where, by_day) if masked else persona_sql._grouped(where, by_day))
    assert query is not None
    part = query.subquery("part")
    return sorted(tuple(r) for r in conn.execute(select(part)).all())


@pytest.mark.parametrize("closed_before", [None, date(2026, 3, 1)])
@pytest.mark.parametrize("by_day", [False, True])
def test_masks_count_what_the_grouping_sets_count(engine, closed_before, by_day):
    where = closed_deals_where(closed_before)
    with engine.connect() as conn:
        masked = _rows(conn, where, by_day=by_day, masked=True)
        portable = _rows(conn, where, by_day=by_day, masked=False)
    assert masked == portable
    assert {r[0] for r in masked} == {"role", "title"}
    assert all(r[1] is not None for r in masked)  # the NULL title is no persona's


def test_too_many_titles_fall_back_to_the_portable_counts(engine, monkeypatch):
    with engine.connect() as conn:
        masked = persona_sql.deal_counts(conn, None)
        monkeypatch.setattr(persona_sql, "MAX_WORDS", 0)
        assert persona_sql._masked(conn, closed_deals_where(None), False) is None
        assert persona_sql.deal_counts(conn, None) == masked


def test_titles_spread_over_several_mask_words(engine, monkeypatch):
    with engine.connect() as conn:
        one_word = persona_sql.deal_counts(conn, None)
        monkeypatch.setattr(persona_sql, "WORD_BITS", 10)  # 33 demo titles: 4 words of 10 bits
        assert len(one_word[1]) > 30
        assert persona_sql.deal_counts(conn, None) == one_word


@pytest.mark.parametrize("closed_before", CUTS)
def test_stored_facts_sum_to_the_counted_deals_and_topics(stored, closed_before):
    version = state.persona_facts_version(stored)
    assert version is not None
    with stored.connect() as conn:
        assert conn.execute(select(func.count()).select_from(icp_persona_facts)).scalar() > 0
        window = persona_sql.topic_window(conn, closed_before)
        assert persona_sql.read_deal_counts(conn, version, closed_before) == persona_sql.deal_counts(
            conn, closed_before)
        kept = persona_sql.read_topic_counts(conn, version, window)
        counted = persona_sql.topic_counts(conn, window)
    assert [sorted(x) for x in kept] == [sorted(x) for x in counted]
    assert kept[0] and kept[1]


@pytest.mark.parametrize("closed_before", CUTS)
def test_a_derivation_reads_the_stored_personas_and_they_equal_the_counted_ones(stored, monkeypatch,
                                                                               closed_before):
    before = cache.computations().get("persona_facts", 0)
    kept = personas.derive_personas(stored, closed_before=closed_before)
    assert cache.computations().get("persona_facts", 0) == before + 1
    monkeypatch.setattr(personas, "persona_facts_version", lambda engine: None)
    counted = personas.derive_personas(stored, closed_before=closed_before)
    assert [p.model_dump() for p in kept] == [p.model_dump() for p in counted]
    assert any(p.topics for p in kept)


@pytest.mark.postgres
def test_on_postgres_the_stored_facts_sum_to_the_counted_deals_and_topics(pg_url: str) -> None:
    from test_engine_synth import build_synthetic

    from icp_mcp.archive.db import create_schema
    from icp_mcp.engine.derivation.derive import derive_icp
    from icp_mcp.engine.sql.versions import save_version

    engine = open_archive(pg_url)
    create_schema(engine)
    build_synthetic(engine, n_accounts=400, seed=4)
    save_version(engine, derive_icp(engine), "tests", status="active")
    cache.clear()
    assert state.build(engine) is not None
    version = state.persona_facts_version(engine)
    assert version is not None
    try:
        with engine.connect() as conn:
            for cut in (None, date(2026, 3, 1)):
                counted = persona_sql.deal_counts(conn, cut)
                assert persona_sql.read_deal_counts(conn, version, cut) == counted
                assert counted[0] and counted[1]
                window = persona_sql.topic_window(conn, cut)
                kept, topics = persona_sql.read_topic_counts(conn, version, window), persona_sql.topic_counts(
                    conn, window)
                assert [sorted(x) for x in kept] == [sorted(x) for x in topics]
    finally:
        engine.dispose()
        cache.clear()

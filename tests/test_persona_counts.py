"""Persona deal counts: the DuckDB bit-mask path gives the portable GROUPING SETS path's counts."""

from __future__ import annotations

from datetime import date

import pytest

from icp_mcp.archive.db import open_archive
from icp_mcp.engine.derivation import persona_counts
from icp_mcp.engine.sql.labels import closed_deals_where


@pytest.fixture
def engine(demo_archive):
    """The shared demo archive, released after each test (an instance left open in the worker would refuse
    a later plain `duckdb.connect` of the same file)."""
    engine = open_archive(demo_archive, read_only=True)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("closed_before", [None, date(2026, 3, 1)])
def test_masks_count_what_the_grouping_sets_count(engine, closed_before):
    where = closed_deals_where(closed_before)
    with engine.connect() as conn:
        masked = persona_counts.deal_counts(conn, where)
        roles, titles = persona_counts._grouped_counts(conn, where)
    titles = [r for r in titles if r[0] is not None]
    portable = (persona_counts._sorted(roles), persona_counts._sorted(titles))
    assert masked == portable
    assert masked[0] and masked[1]


def test_too_many_titles_fall_back_to_the_portable_counts(engine, monkeypatch):
    where = closed_deals_where(None)
    with engine.connect() as conn:
        masked = persona_counts.deal_counts(conn, where)
        monkeypatch.setattr(persona_counts, "MAX_WORDS", 0)
        assert persona_counts._masked_counts(conn, where) is None
        assert persona_counts.deal_counts(conn, where) == masked


def test_titles_spread_over_several_mask_words(engine, monkeypatch):
    where = closed_deals_where(None)
    with engine.connect() as conn:
        one_word = persona_counts.deal_counts(conn, where)
        monkeypatch.setattr(persona_counts, "WORD_BITS", 10)  # 33 demo titles: 4 words of 10 bits
        assert len(one_word[1]) > 30
        several = persona_counts._masked_counts(conn, where)
    assert several is not None
    assert (persona_counts._sorted(several[0]), persona_counts._sorted(several[1])) == one_word

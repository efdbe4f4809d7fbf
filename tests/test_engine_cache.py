"""The engine cache: one computation per key, shared by concurrent callers."""

from __future__ import annotations


def test_cache_computes_once_for_concurrent_first_calls():
    """Concurrent first calls for one key wait for a single computation instead of each rebuilding it."""
    import threading
    import time as _time

    from sqlalchemy import create_engine

    from icp_mcp.engine.sql import cache

    engine = create_engine("sqlite://")
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        _time.sleep(0.2)
        return 42

    cache.clear()
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.cached(engine, ("k",), slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.clear()
    assert results == [42] * 4
    assert len(calls) == 1


def test_cache_forgets_the_flight_of_a_failing_computation():
    """A computation that raises is not stored, leaves no lock behind, and runs again on the next call."""
    import pytest
    from sqlalchemy import create_engine

    from icp_mcp.engine.sql import cache

    engine = create_engine("sqlite://")
    cache.clear()

    def boom() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.cached(engine, ("bad",), boom)
    assert not cache._flights
    assert cache.cached(engine, ("bad",), lambda: 7) == 7
    cache.clear()


def test_entries_are_keyed_by_the_archive_generation_bounded_and_cleared(archive_path):
    """A new generation (here: an activation) is seen at once, nothing expires on a timer, the store is an
    LRU of MAX_ENTRIES, and clear() forgets everything, the cohort ids included."""
    from icp_mcp.archive.db import open_archive
    from icp_mcp.engine.model.profile import ICPDefinition
    from icp_mcp.engine.questions.cohorts import materialize
    from icp_mcp.engine.sql import cache, versions
    from sqlalchemy import select
    from icp_mcp.archive.schema import accounts

    engine = open_archive(archive_path)
    cache.clear()
    calls: list[int] = []
    value = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.cached(engine, ("k",), value) == 1
    assert cache.cached(engine, ("k",), value) == 1
    with cache.pinned():
        assert cache.cached(engine, ("k",), value) == 1, "the same generation: still cached"
    usable = ICPDefinition(name="x", criteria=[{"attribute": "industry", "value": "Software", "points": 20}])
    versions.save_version(engine, usable, "tests", status="active")  # bumps the generation
    assert cache.cached(engine, ("k",), value) == 2
    assert cache.computations()["k"] == 2
    for i in range(cache.MAX_ENTRIES + 5):
        cache.cached(engine, ("many", i), lambda: i)
    assert len(cache._store) == cache.MAX_ENTRIES
    materialize(engine, ("all",), select(accounts.c.account_id))
    assert any(k[3] == "cohort_ids" for k in cache._store)
    cache.clear()
    assert not cache._store and not cache.computations().get("k")
    engine.dispose()

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
    cache._prints[id(engine)] = (_time.monotonic() + 3600, ("fixed",))
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
    import time as _time

    import pytest
    from sqlalchemy import create_engine

    from icp_mcp.engine.sql import cache

    engine = create_engine("sqlite://")
    cache.clear()
    cache._prints[id(engine)] = (_time.monotonic() + 3600, ("fixed",))

    def boom() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.cached(engine, ("bad",), boom)
    assert not cache._flights
    assert cache.cached(engine, ("bad",), lambda: 7) == 7
    cache.clear()

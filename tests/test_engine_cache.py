"""The engine cache: one computation per key, shared by concurrent callers."""

from __future__ import annotations


def test_cache_computes_once_for_concurrent_first_calls():
    """Concurrent first calls for one key wait for a single computation instead of each rebuilding it."""
    import threading
    import time as _time

    from sqlalchemy import create_engine

    from icp_mcp.engine import cache

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

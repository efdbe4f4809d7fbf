"""A small time-limited in-process cache for expensive, read-mostly engine results (best-customer cohort,
similarity index). Keys include the engine's identity and a fingerprint of the data (row counts, latest
close date), so two archives never share entries and a write that matters invalidates them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from icp_mcp.archive.schema import account_technologies, accounts, arr_snapshots, opportunities

T = TypeVar("T")
TTL_SECONDS = 300.0
MAX_ENTRIES = 32

_lock = threading.Lock()
_store: dict[tuple, tuple[float, Any]] = {}
_flights: dict[tuple, threading.Lock] = {}


_prints: dict[int, tuple[float, tuple]] = {}
FINGERPRINT_SECONDS = 5.0


def fingerprint(engine: Engine) -> tuple:
    """A cheap summary of the data the cached results depend on (re-read at most every 5 s)."""
    now = time.monotonic()
    hit = _prints.get(id(engine))
    if hit is not None and now - hit[0] < FINGERPRINT_SECONDS:
        return hit[1]
    value = _read_fingerprint(engine)
    _prints[id(engine)] = (now, value)
    return value


def _read_fingerprint(engine: Engine) -> tuple:
    """Row counts and the latest close date: any write that matters changes them."""
    from sqlalchemy import func, select


    with engine.connect() as conn:
        return tuple(conn.execute(select(
            select(func.max(opportunities.c.closed_at)).scalar_subquery(),
            select(func.count()).select_from(opportunities).scalar_subquery(),
            select(func.count()).select_from(arr_snapshots).scalar_subquery(),
            select(func.count()).select_from(accounts).scalar_subquery(),
            select(func.count()).select_from(account_technologies).scalar_subquery(),
        )).one())


def cached(engine: Engine, key: tuple, compute: Callable[[], T], ttl: float = TTL_SECONDS) -> T:
    """`compute()` once per (engine, key, data fingerprint) for `ttl` seconds."""
    full = (id(engine), str(engine.url), fingerprint(engine), *key)
    hit = _fresh(full, ttl)
    if hit is not None:
        return hit[1]
    with _lock:
        flight = _flights.setdefault(full, threading.Lock())
    with flight:  # concurrent first calls compute once; the others wait and reuse the result
        hit = _fresh(full, ttl)
        if hit is not None:
            return hit[1]
        try:
            value = compute()
            with _lock:
                if len(_store) >= MAX_ENTRIES:
                    _store.pop(min(_store, key=lambda k: _store[k][0]))
                _store[full] = (time.monotonic(), value)
        finally:  # also when compute() raises, so a failing key leaves no lock behind
            with _lock:
                _flights.pop(full, None)
    return value


def _fresh(full: tuple, ttl: float) -> tuple[float, Any] | None:
    """The stored entry for `full` when it is younger than `ttl`."""
    with _lock:
        hit = _store.get(full)
    return hit if hit is not None and time.monotonic() - hit[0] < ttl else None


def clear() -> None:
    """Forget everything (tests, or after the archive changed)."""
    with _lock:
        _store.clear()
        _prints.clear()

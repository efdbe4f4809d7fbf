"""The engine's one in-process cache for expensive, read-mostly results (the active ICP, cohort ids, the
best-customer ranking, the similarity index, tier cut-offs).

Entries are keyed by (archive, generation, day, key): the archive's URL and id and its generation number
(`archive/generation.py`), which every ingest, activation, rollback and import bumps, and today's date
(scores count trigger windows to now). So a write that
matters is seen at once (also one that changes values without changing counts), nothing expires on a
timer, and entries of an older generation are dropped as soon as a newer one is seen. The store is an LRU
bounded to MAX_ENTRIES; concurrent first calls for one key compute it once (single flight).

A call sees one generation throughout (`pinned()`, which the tool and resource runners wrap around every
call). `answer()` keeps whole tool answers (pure read tools: keyed by tool, arguments and the caller's view) under
the same keys in a second LRU bounded to MAX_ANSWERS, so many small answers never push out the engine's
expensive entries. A PostgreSQL archive's generation is re-read once per call (else at most every GENERATION_SECONDS),
so a change made by another process is seen by the next call; a DuckDB file this process holds open is
re-read only after this process bumped a generation (no other process can write it meanwhile). `computations()` counts what was computed per kind
(the first element of a key), so tests can assert what was recomputed instead of timing it.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from icp_mcp.archive import clock
from icp_mcp.archive import generation as archive_generation

T = TypeVar("T")
MAX_ENTRIES = 64
#: Whole tool answers kept (a page of results each, a few kB): bounded separately from the engine entries.
MAX_ANSWERS = 2048
GENERATION_SECONDS = 1.0

Stamp = tuple[str, int]  # (archive_id, generation)

_lock = threading.Lock()
_store: OrderedDict[tuple, Any] = OrderedDict()
_answers: OrderedDict[tuple, Any] = OrderedDict()
_flights: dict[tuple, threading.Lock] = {}
_memo: weakref.WeakKeyDictionary[Any, tuple[float, int, Stamp]] = weakref.WeakKeyDictionary()  # by pool
_seen: dict[str, Stamp] = {}  # the latest stamp seen per archive URL
_pins: contextvars.ContextVar[dict[str, Stamp] | None] = contextvars.ContextVar("icp_cache_pins", default=None)
_computed: Counter[str] = Counter()
_reads = [0]


def _url(engine: Engine) -> str:
    return str(engine.url)


def _read_stamp(engine: Engine) -> Stamp:
    """One keyed query; ("", 0) for an archive without a generation (a read-only archive made before it)."""
    _reads[0] += 1
    try:
        with engine.connect() as conn:
            found = archive_generation.read(conn)
    except SQLAlchemyError:
        found = None
    return found or ("", 0)


def stamp(engine: Engine) -> Stamp:
    """(archive_id, generation) of the archive behind `engine`.

    A DuckDB file held open by this process can only change through this process (DuckDB allows one
    writing process, and none while a reader holds it), so it is re-read only after this process bumped a
    generation or reopened the engine (a new pool). Other archives (PostgreSQL) are re-read once per tool
    call inside `pinned()`, else at most every GENERATION_SECONDS.
    """
    url = _url(engine)
    pins = _pins.get()
    if pins is not None and url in pins:
        return pins[url]
    now, bumps = time.monotonic(), archive_generation.local_bumps()
    with _lock:
        hit = _memo.get(engine.pool)
        last = _seen.get(url)
    if hit is not None and hit[1] == bumps and (
            engine.dialect.name == "duckdb" or (pins is None and now - hit[0] < GENERATION_SECONDS)):
        value = hit[2]
    else:
        value = _read_stamp(engine)
        with _lock:
            if last is not None and last != value:  # a new generation: the old entries can never be hit again
                for store in (_store, _answers):
                    for key in [k for k in store if k[0] == url and k[1] != value]:
                        del store[key]
            _memo[engine.pool] = (now, bumps, value)
            _seen[url] = value
    if pins is not None:
        pins[url] = value
    return value


def generation(engine: Engine) -> int:
    """The archive generation the cache currently keys by."""
    return stamp(engine)[1]


@contextlib.contextmanager
def pinned() -> Iterator[None]:
    """Within this block each archive's generation is read once (the tool runner wraps every call)."""
    token = _pins.set({})
    try:
        yield
    finally:
        _pins.reset(token)


def forget_generation(engine: Engine) -> None:
    """After this process changed the generation: re-read it on the next look-up."""
    with _lock:
        _memo.pop(engine.pool, None)
    pins = _pins.get()
    if pins is not None:
        pins.pop(_url(engine), None)


def _full(engine: Engine, key: tuple) -> tuple:
    """The whole key: archive, generation stamp, the archive's UTC business day (trigger windows and value
    ages count to it, so a long-running process sees the new day without a timer), and the caller's key."""
    return (_url(engine), stamp(engine), clock.today(), *key)


def cached(engine: Engine, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` once per (archive, generation, key); the result is kept until the generation changes or
    the LRU bound pushes it out."""
    return _single_flight(_store, None, _full(engine, key), str(key[0]) if key else "", compute)


def answer(engine: Engine, key: tuple, compute: Callable[[], T]) -> T:
    """A whole tool answer: `compute()` once per (archive, generation, day, key) in the answers LRU (counted
    as kind ``answer``). Only for answers that depend on nothing else: the caller's view belongs in `key`."""
    return _single_flight(_answers, MAX_ANSWERS, _full(engine, ("answer", *key)), "answer", compute)


def kept(engine: Engine, key: tuple) -> tuple[bool, Any]:
    """(True, the answer) when `answer(engine, key, …)` has it for the current generation and day, without
    computing anything; (False, None) otherwise."""
    return _get(_full(engine, ("answer", *key)), _answers)


def _single_flight(store: OrderedDict[tuple, Any], bound: int | None, full: tuple, kind: str, compute: Callable[[], T]) -> T:
    found, value = _get(full, store)
    if found:
        return value
    with _lock:
        flight = _flights.setdefault(full, threading.Lock())
    with flight:  # concurrent first calls compute once; the others wait and reuse the result
        found, value = _get(full, store)
        if found:
            return value
        try:
            with _lock:
                _computed[kind] += 1
            value = compute()
            _put(full, value, store, bound)
        finally:  # also when compute() raises, so a failing key leaves no lock behind
            with _lock:
                _flights.pop(full, None)
    return value


def put(engine: Engine, key: tuple, value: Any) -> None:
    """Store `value` under `key` for the current generation (e.g. a state this process just wrote)."""
    _put(_full(engine, key), value)


def _get(full: tuple, store: OrderedDict[tuple, Any] = _store) -> tuple[bool, Any]:
    with _lock:
        if full in store:
            store.move_to_end(full)
            return True, store[full]
    return False, None


def _put(full: tuple, value: Any, store: OrderedDict[tuple, Any] = _store, bound: int | None = None) -> None:
    bound = MAX_ENTRIES if bound is None else bound
    with _lock:
        store[full] = value
        store.move_to_end(full)
        while len(store) > bound:
            store.popitem(last=False)


def drop_answers(engine: Engine) -> None:
    """Forget the kept answers of this archive (e.g. after the stored state they were read from was rebuilt for
    a new day: same generation, so their keys would otherwise still match)."""
    url = _url(engine)
    with _lock:
        for full in [k for k in _answers if k[0] == url]:
            del _answers[full]


def computations() -> dict[str, int]:
    """How many times each kind of entry was computed in this process (tests assert on it)."""
    with _lock:
        return {**_computed, "generation_reads": _reads[0]}


def count(kind: str) -> None:
    """Count one computation of `kind` that is not itself a cache entry (e.g. writing the stored state)."""
    with _lock:
        _computed[kind] += 1


def clear() -> None:
    """Forget everything: entries, generations and counters (tests, or after the archive changed)."""
    with _lock:
        _store.clear()
        _answers.clear()
        _memo.clear()
        _seen.clear()
        _computed.clear()
        _reads[0] = 0

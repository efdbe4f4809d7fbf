"""The server's one handle on the archive: a guarded reader for query tools and one writer path.

DuckDB allows one writing process per file, so a server process opens exactly one SQLAlchemy engine:
read-write by default (so `derive_icp` / `activate_icp` can store versions), or read-only
(`--read-only`, several server processes may share the file; writes are refused).

Read-only tools get `reader` — the same engine with an execution option that a `before_cursor_execute`
hook checks: any statement that would change the archive (INSERT, UPDATE, CREATE TABLE, …) raises
`ReadOnlyViolation` before it reaches the database. Writes go through `write()`, which serialises them
behind one lock and runs them on the plain engine.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event

from icp_mcp.archive.opening import open_checked
from icp_mcp.surface import audit_hook
from icp_mcp.surface.settings import MEMORY_LIMIT

T = TypeVar("T")

_READ_ONLY_OPTION = "icp_mcp_read_only"
#: First keywords of statements that change the archive. Temporary objects are allowed (below).
_WRITE_KEYWORDS = frozenset(
    {"insert", "update", "delete", "merge", "upsert", "create", "drop", "alter", "truncate", "copy",
     "attach", "detach", "checkpoint", "vacuum", "import", "export", "install", "comment", "grant", "revoke"}
)
_TEMP = re.compile(r"^\s*(create|drop)\s+(or\s+replace\s+)?(temp|temporary)\b|^\s*drop\s+table\s+if\s+exists\s+temp\.", re.I)


_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


def _memory(value: str) -> str:
    """A DuckDB memory size ("700MB", "2 GiB"); anything else is refused naming the variable."""
    if not _MEMORY.match(value or ""):
        raise ValueError(f"ICP_MCP_MEMORY_LIMIT: {value!r} is not a size like 700MB or 2GB")
    return value.strip()


class ReadOnlyViolation(RuntimeError):
    """A read-only tool tried to change the archive."""


class ArchiveReadOnly(RuntimeError):
    """A write was asked of an archive the server opened read-only."""


def is_write_statement(sql: str) -> bool:
    """True when `sql` would change the archive (temporary tables do not count)."""
    text = sql.lstrip().lstrip("(").lstrip()
    first = text.split(None, 1)[0].lower() if text else ""
    if first == "with":
        return bool(re.search(r"\b(insert|update|delete|merge)\b", text, re.I))
    if first in ("create", "drop") and _TEMP.match(text):
        return False
    if first == "pragma":
        return "create_fts_index" in text.lower() or "drop_fts_index" in text.lower()
    return first in _WRITE_KEYWORDS


def _guard(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if conn.get_execution_options().get(_READ_ONLY_OPTION) and is_write_statement(statement):
        raise ReadOnlyViolation(f"a read-only tool attempted to write: {statement.split(None, 3)[:3]}")


class ArchiveHandle:
    """One engine per process; `reader` for queries, `write()` for the single writer path."""

    def __init__(self, target: str, *, read_only: bool = False, engine: Engine | None = None) -> None:
        self.target = str(target)
        self.read_only = read_only
        self.engine: Engine = engine or open_checked(target, read_only=read_only)  # ArchiveError: one line
        event.listen(self.engine, "before_cursor_execute", _guard)
        self.reader: Engine = self.engine.execution_options(**{_READ_ONLY_OPTION: True})
        self._write_lock = threading.Lock()
        self._writing: str | None = None  # what the write in progress is (for "queued behind …" lines)
        self._checked_out: dict[int, list[Any]] = {}  # thread id -> DBAPI connections in use (for interrupt)
        self.warming: threading.Thread | None = None  # the server's start-up warm-up (`runner.warm_up`)
        self.warmed = threading.Event()  # set once the warm-up has read what every call needs
        self._background: list[threading.Thread] = []  # writers in the background (state builds): `close` stops them
        self.closing = False  # set by `close`: a background writer stopped by it says so quietly
        event.listen(self.engine, "checkout", self._on_checkout)
        event.listen(self.engine, "checkin", self._on_checkin)
        self.memory_limit: str | None = None  # set by `bound_memory` (the `serve` process)
        self._unbounded: str | None = None

    def bound_memory(self, limit: str | None = None) -> None:
        """Keep this process's DuckDB queries under `limit` (default `ICP_MCP_MEMORY_LIMIT` or MEMORY_LIMIT).

        Only `serve` asks for it: the limit is a setting of the DuckDB instance, and an in-process caller
        (tests, `icp-mcp call`) that opens the same file again with the default configuration would be
        refused ("a different configuration")."""
        self.memory_limit = _memory(limit or os.environ.get("ICP_MCP_MEMORY_LIMIT", MEMORY_LIMIT))
        self._bound_memory(True)

    def _bound_memory(self, bounded: bool) -> None:
        """DuckDB: the server's queries share `memory_limit` (one setting per database instance); a write
        lifts it to DuckDB's default while it runs (a state build at 1M accounts needs ~2 GB)."""
        if self.memory_limit is None or self.engine.dialect.name != "duckdb":
            return
        with self.engine.connect() as conn:
            if self._unbounded is None:  # DuckDB's default for this machine (RESET leaves the buffer pool bounded)
                self._unbounded = str(conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar())
            limit = _memory(self.memory_limit if bounded else self._unbounded)
            conn.exec_driver_sql(f"SET memory_limit = '{limit}'")

    def _on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        self._checked_out.setdefault(threading.get_ident(), []).append(dbapi_connection)

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        for thread, conns in list(self._checked_out.items()):
            if dbapi_connection in conns:
                conns.remove(dbapi_connection)
                if not conns:
                    self._checked_out.pop(thread, None)

    def interrupt(self, thread_id: int | None) -> int:
        """Interrupt the queries running on the connections `thread_id` holds (DuckDB); how many were told."""
        told = 0
        for conn in list(self._checked_out.get(thread_id or -1, [])):
            raw = getattr(conn, "_ConnectionWrapper__c", conn)  # duckdb-sqlalchemy wraps the native connection
            if hasattr(raw, "interrupt"):
                raw.interrupt()
                told += 1
        return told

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(engine, *args, **kwargs)` as the only writer in this process.

        The engine functions it calls (`save_version`, `activate`, …) open their own transaction with
        `engine.begin()`, so a failure leaves the archive as it was.
        """
        if self.read_only:
            raise ArchiveReadOnly(
                "the server opened the archive read-only (--read-only); run the write from the CLI "
                "(`icp-mcp icp derive` / `icp-mcp icp activate`) or serve without --read-only"
            )
        return self.queued_write("a write from a tool call", None, fn, *args, **kwargs)

    def queued_write(self, label: str, on_wait: Callable[[str], None] | None, fn: Callable[..., T],
                     *args: Any, **kwargs: Any) -> T:
        """`write`, for a command described by `label`: when another write is in progress, `on_wait(what)`
        is told what it waits behind, then it runs when that one is done (in arrival order of the lock)."""
        if self.read_only:
            raise ArchiveReadOnly("the server opened the archive read-only (--read-only); it cannot write")
        if not self._write_lock.acquire(blocking=False):
            if on_wait is not None:
                on_wait(self._writing or "another write")
            self._write_lock.acquire()
        try:
            self._writing = label
            self._bound_memory(False)
            return fn(self.engine, *args, **kwargs)
        finally:
            self._bound_memory(True)
            self._writing = None
            self._write_lock.release()

    def stop_on_close(self, thread: threading.Thread) -> None:
        """`close` stops `thread` (a background writer such as a state build) before it releases the file."""
        self._background = [t for t in self._background if t.is_alive()] + [thread]

    def _stop_background(self, patience_s: float = 30.0) -> None:
        """Interrupt the background writers' queries until they end (their transactions roll back): a process
        that exits while DuckDB works in a thread the interpreter is tearing down aborts ("terminate called
        without an active exception", exit 134, after `icp-mcp call` had printed its answer)."""
        deadline = time.monotonic() + patience_s
        for thread in self._background:
            while thread.is_alive() and time.monotonic() < deadline:
                self.interrupt(thread.ident)  # the statement running now; the next one is told on the next turn
                thread.join(0.05)

    def close(self) -> None:
        """Release the file (DuckDB keeps its lock while any connection is open); a background state build
        still running is stopped first (the next writer builds it again)."""
        self.closing = True
        if self.warming is not None:  # a warm-up still reading would reopen the pool after dispose
            self.warming.join()
        self._stop_background()
        audit_hook.flush()  # queued audit entries first: a write after dispose would reopen the file
        self.engine.dispose()

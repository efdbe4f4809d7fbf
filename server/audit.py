"""The audit trail: one row per tool call or resource read (who, what, redacted arguments, outcome, time).

`record` writes to the archive's ``audit_log`` table and, when configured, appends the same entry to a
JSONL file. Auditing never fails the call it records: when the archive cannot be written (opened
read-only, locked by a writer, PostgreSQL down) the entry goes to the JSONL file (or, without one, to
the Python log), with one warning per archive.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, desc, event, false, insert, select, text

from icp_mcp.archive.clock import utc_now
from icp_mcp.archive.schema import audit_log
from icp_mcp.server.redact import redact_arguments
from icp_mcp.surface.audit_hook import error_outcome  # noqa: F401  (re-exported for callers of server.audit)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_groups_lock = threading.Lock()
_warned: set[str] = set()
#: Process-wide JSONL path used when a caller gives none (set by `serve --policy` from `audit_jsonl`).
_default_jsonl: Path | None = None


def set_default_jsonl(path: str | os.PathLike[str] | None) -> None:
    """Set the JSONL file every `record` call also writes to unless it names its own."""
    global _default_jsonl
    _default_jsonl = Path(path) if path else None


def record(
    engine: Engine | None,
    *,
    subject: str,
    tool: str,
    arguments: Any,
    outcome: str,
    rows: int | None = None,
    duration_ms: float | None = None,
    jsonl_path: str | os.PathLike[str] | None = None,
    reason: str | None = None,
) -> bool:
    """Append one audit entry; True when it was stored in (or queued for) the archive's audit_log.

    The entry is committed before this returns (the runner records before the answer is sent), so an
    answer the client saw always has its audit row, even when the server is killed right after. When the
    archive refuses the first entry (read-only, locked), later entries skip it. Never raises.
    """
    entry = {
        "at": utc_now(),
        "subject": str(subject)[:200],
        "tool": str(tool)[:200],
        "arguments": redact_arguments(arguments if arguments is not None else {}),
        "outcome": str(outcome)[:120],
        "rows": int(rows) if rows is not None else None,
        "duration_ms": round(float(duration_ms), 3) if duration_ms is not None else None,
        "reason": _clean_reason(reason),
    }
    path = jsonl_path or _default_jsonl
    if path is not None:
        _append_jsonl(Path(path), entry)
    stored = False
    if engine is not None:
        if _writable.get(engine, True):
            stored = _insert(engine, [entry])
            _writable[engine] = stored
    if not stored and path is None:
        logger.warning("audit: %s", json.dumps(_jsonable(entry), ensure_ascii=False))
    return stored


def _clean_reason(reason: str | None) -> str | None:
    return None if reason is None else redact_arguments(str(reason))


def _has_reason_column(engine: Engine) -> bool:
    """Does `audit_log.reason` exist? Schema revision 0004 adds it (writers migrate on open); on an archive
    that is not migrated yet the reason travels inside the arguments (`_reason`)."""
    known = _reason_column.get(engine)
    if known is None:  # a probe that selects nothing (DuckDB's column reflection costs ~80 ms at 1M accounts)
        try:
            with engine.connect() as conn:
                conn.execute(select(audit_log.c.reason).where(false())).all()
            known = True
        except Exception:
            known = False
        _reason_column[engine] = known
    return known


class _Waiting:
    """One call's entries waiting for the commit that stores them."""

    __slots__ = ("entries", "stored")

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.stored: bool | None = None


class _Group:
    """Group commit for one archive: entries that arrive while a commit runs wait and go into the next one."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: list[_Waiting] = []
        self.writing = False


def _insert(engine: Engine, entries: list[dict[str, Any]]) -> bool:
    """Store entries before returning, by group commit: the first caller writes every entry waiting at that
    moment in one transaction, callers arriving meanwhile wait for the next one. Under load one commit
    (a WAL sync on DuckDB, which also holds back every BEGIN in the process) serves many calls instead of
    one each. False (and one warning per archive) when the archive refuses the write."""
    with _groups_lock:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = _Group()
    mine = _Waiting(entries)
    with group.cond:
        group.pending.append(mine)
        while mine.stored is None:
            if group.writing:
                group.cond.wait()
                continue
            batch, group.pending, group.writing = group.pending, [], True
            ok = False
            group.cond.release()
            try:
                ok = _insert_now(engine, [e for waiting in batch for e in waiting.entries])
            finally:
                group.cond.acquire()
                group.writing = False
                for waiting in batch:
                    waiting.stored = ok
                group.cond.notify_all()
    return mine.stored


def _insert_now(engine: Engine, entries: list[dict[str, Any]]) -> bool:
    """Insert entries in one transaction; False (and one warning per archive) when that fails."""
    if not _has_reason_column(engine):
        entries = [_fold_reason(e) for e in entries]
    try:
        with _lock:
            if engine.dialect.name == "duckdb":
                _duckdb_insert(engine, entries)
            else:
                with engine.begin() as conn:
                    conn.execute(insert(audit_log), entries)
        return True
    except Exception as exc:  # read-only archive, lock held elsewhere, server down: never fail the call
        _warn_not_writable(engine, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return False


def _warn_not_writable(engine: Engine, why: str) -> None:
    where = "the JSONL file only" if _default_jsonl else "the server log only (set audit_jsonl in the policy to keep them)"
    _warn_once(f"db:{engine.url}", f"audit_log not writable ({why}); audit entries go to {where}")


def prepare(engine: Engine) -> None:
    """Ready the audit path at server start (the warm-up), so the first call's entry costs what the
    hundredth's does (~25 ms less at 1M accounts): probe the reason column, open the audit connection, and
    on a DuckDB file opened read-only say now, once, that entries go elsewhere. Never raises."""
    if engine in _writable:
        return
    try:
        _has_reason_column(engine)
        if engine.dialect.name != "duckdb":
            return
        with _lock:
            mode = _audit_connection(engine).execute("SELECT current_setting('access_mode')").fetchone()[0]
    except Exception:  # the first entry will meet (and report) whatever failed here
        logger.debug("audit: could not prepare", exc_info=True)
        return
    if str(mode).lower() == "read_only":
        _writable[engine] = False
        _warn_not_writable(engine, "the archive is open read-only")


#: The columns a DuckDB audit row is written with (the id comes from the column's sequence default).
_COLUMNS = ("at", "subject", "tool", "arguments", "outcome", "rows", "duration_ms", "reason")


def _duckdb_insert(engine: Engine, entries: list[dict[str, Any]]) -> None:
    """Insert on the archive's own audit connection: one INSERT with a row per entry, committed on return
    (DuckDB autocommit), without a pool checkout, a SQLAlchemy compile and an explicit transaction per call (a third
    of the cost). Called under `_lock`: one DuckDB connection is not used by two threads at once."""
    columns = [c for c in _COLUMNS if c != "reason" or "reason" in entries[0]]
    row = f"({', '.join('?' for _ in columns)})"
    sql = (f"INSERT INTO audit_log ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
           f"VALUES {', '.join(row for _ in entries)}")  # one statement (executemany costs ~0.6 ms a row)
    values = [json.dumps(e[c]) if c == "arguments" and e[c] is not None else e[c] for e in entries for c in columns]
    try:
        _audit_connection(engine).execute(sql, values)  # autocommit: one transaction
    except duckdb.ConnectionException:  # closed under us (the engine was disposed and reopened): once more
        _drop_audit_conn(engine)
        _audit_connection(engine).execute(sql, values)


def _audit_connection(engine: Engine) -> Any:
    """The archive's own audit connection: a pooled DuckDB connection detached from the pool for good (the
    pool closes overflow connections when it has enough idle ones, which closed a cursor taken from one)."""
    held = _audit_conn.get(engine)
    if held is None:
        pooled = engine.raw_connection()
        native = pooled.driver_connection
        pooled.detach()  # ours now: the pool neither reuses nor closes it; closing it closes the connection
        held = _audit_conn[engine] = (getattr(native, "_ConnectionWrapper__c", native), pooled)
        if not event.contains(engine, "engine_disposed", _close_audit_conn):
            event.listen(engine, "engine_disposed", _close_audit_conn)  # else it would keep the file open
    return held[0]


def _close_audit_conn(engine: Engine) -> None:
    with _lock:
        _drop_audit_conn(engine)


def _drop_audit_conn(engine: Engine) -> None:
    """Forget the audit connection and close it through its detached pool proxy, which rolls back first:
    closing the DuckDB connection before the proxy made that rollback fail on a closed connection (and the
    pool logged a traceback at every read-only exit)."""
    held = _audit_conn.pop(engine, None)
    if held is not None:
        try:
            held[1].close()  # the detached proxy: this closes the DuckDB connection itself
        except Exception:  # already closed under us: nothing left to release
            pass


def _fold_reason(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in entry.items() if k != "reason"}
    if entry.get("reason"):
        out["arguments"] = {**(entry.get("arguments") or {}), "_reason": entry["reason"]}
    return out


#: Per engine: does audit_log have the `reason` column (schema revision 0004)?
_reason_column: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
#: Per DuckDB engine: the DuckDB connection audit rows are written on, and the detached pool proxy that owns it.
_audit_conn: weakref.WeakKeyDictionary[Engine, tuple[Any, Any]] = weakref.WeakKeyDictionary()
#: Per engine: the group commit entries wait in.
_groups: weakref.WeakKeyDictionary[Engine, _Group] = weakref.WeakKeyDictionary()
#: Per engine: does audit_log accept writes? (learned from the first entry; weak so engines can go away)
_writable: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def flush(timeout: float = 30.0) -> None:
    """Nothing is queued any more (entries are committed in `record`); kept for the audit hook's contract."""


def _append_jsonl(path: Path, entry: dict[str, Any]) -> None:
    try:
        line = json.dumps(_jsonable(entry), ensure_ascii=False)
        with _lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except Exception as exc:  # a full disk must not fail the tool call either
        _warn_once(f"jsonl:{path}", f"cannot append to audit file {path}: {exc}")


def _jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() + "Z" if isinstance(v, datetime) else v) for k, v in entry.items()}


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message)


def tail(engine: Engine, *, n: int = 20, subject: str | None = None) -> list[dict[str, Any]]:
    """The last `n` audit entries (oldest first), optionally of one subject (queued entries included)."""
    flush()
    cols = [c for c in audit_log.c if c.name != "reason" or _has_reason_column(engine)]
    query = select(*cols).order_by(desc(audit_log.c.id)).limit(max(1, min(int(n), 10_000)))
    if subject:
        query = query.where(audit_log.c.subject == subject)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        if isinstance(row.get("arguments"), str):
            try:
                row["arguments"] = json.loads(row["arguments"])
            except ValueError:
                pass
    return list(reversed(rows))

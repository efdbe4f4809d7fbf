"""Where tool calls and resource reads hand their audit entry: a hook the server fills in.

The shared layer does not know how audit entries are stored; `icp_mcp.server.app.build_server` installs
the recorder (`icp_mcp.server.audit.record`) and its flush. Without one (a bare engine test), entries
are dropped. Recording never fails a call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine

logger = logging.getLogger("icp_mcp.audit")

Recorder = Callable[..., Any]
_recorder: Recorder | None = None
_flush: Callable[[], None] | None = None
_prepare: Callable[[Engine], None] | None = None


def install(recorder: Recorder, flush: Callable[[], None], prepare: Callable[[Engine], None] | None = None) -> None:
    """Set the process's audit recorder (`recorder(engine, subject=, tool=, arguments=, outcome=, rows=,
    duration_ms=, reason=)`), the function that waits until queued entries are stored, and the one that
    readies the recorder for an archive before its first entry (the server's warm-up calls it)."""
    global _recorder, _flush, _prepare
    _recorder, _flush, _prepare = recorder, flush, prepare


def prepare(engine: Engine) -> None:
    """Ready the recorder for `engine` before the first entry (at server start); never raises."""
    if _prepare is None:
        return
    try:
        _prepare(engine)
    except Exception:
        logger.debug("audit prepare failed", exc_info=True)


def error_outcome(kind: str | BaseException) -> str:
    """``error:<kind>`` for an exception or a short kind name."""
    name = type(kind).__name__ if isinstance(kind, BaseException) else str(kind)
    return f"error:{name}"[:120]


def record(engine: Engine, subject: str, tool: str, arguments: Mapping[str, Any], outcome: str, rows: int,
           duration_ms: float, reason: str | None = None) -> None:
    """Hand one entry to the installed recorder; log, never raise, when it fails. Refusals are outcome
    ``denied`` with the `reason`."""
    if _recorder is None:
        return
    try:
        _recorder(engine, subject=subject, tool=tool, arguments=dict(arguments), outcome=outcome, rows=rows,
                  duration_ms=duration_ms, reason=reason)
    except Exception:  # audit must never turn an answer into a failure
        logger.exception("audit record failed for %s", tool)


def flush() -> None:
    """Wait for queued entries (before the archive file is released)."""
    if _flush is not None:
        _flush()

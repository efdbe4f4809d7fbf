"""The write commands as operations on an engine: the same code whether the CLI writes the archive itself or
a server holding the archive carries the command out for it (`server/control.py`).

Each operation takes JSON-able arguments (file paths already absolute), reports progress through
`progress(done, total, message)` and returns a JSON-able result that the CLI prints. Bad input raises
`OpError` (one line, exit code, optional candidates); nothing else is expected to escape.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

Progress = Callable[[float, float | None, str], None]

#: Operations and a short label for "queued behind …" lines.
OPS: dict[str, str] = {
    "ingest": "an ingest",
    "icp.derive": "an ICP derivation",
    "icp.import": "an ICP import",
    "icp.activate": "an ICP activation",
    "icp.rollback": "an ICP rollback",
    "icp.refresh": "storing the ICP state",
}


#: Read operations the holder answers without taking the write lock (the file is locked for other readers).
READ_OPS: dict[str, str] = {"audit.tail": "reading the audit log"}


class OpError(Exception):
    """A write command refused its input or the archive: one line, exit `code`, optional candidates."""

    def __init__(self, message: str, code: int = 2, candidates: list[str] | None = None,
                 label: str = "error") -> None:
        super().__init__(message)
        self.code, self.candidates, self.label = code, list(candidates or []), label

    def to_dict(self) -> dict[str, Any]:
        return {"message": str(self), "code": self.code, "candidates": self.candidates, "label": self.label}


def parse_date(value: str | None, field: str) -> date | None:
    from icp_mcp.engine.model.errors import EngineError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise EngineError(field, f"not a date (YYYY-MM-DD): {value!r}") from None


def _ingest(engine: Engine, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from icp_mcp.archive.ingest import ingest_file
    from icp_mcp.archive.topics import load_taxonomy

    topics = args.get("topics")
    try:
        taxonomy = load_taxonomy(topics) if topics else None
    except (OSError, ValueError) as exc:
        raise OpError(f"cannot use topic taxonomy {topics}: {exc}") from exc
    report = ingest_file(engine, args["table"], args["file"], mapping=args.get("mapping", "generic"),
                         progress=progress, taxonomy=taxonomy, stage_map=args.get("stage_map") or None)
    result = report.model_dump(mode="json")
    if report.loaded or report.updated:  # a new generation: store the active ICP's state for it
        result["state"] = _store_state(engine, progress)
    return result


def _store_state(engine: Engine, progress: Progress) -> dict[str, Any]:
    """Store the active version's ICP state (engine/scoring/state.py) for the archive's generation."""
    from icp_mcp.engine.scoring import state

    head = state.build(engine, progress=progress)
    return {"version": None if head is None else head.version,
            "generation": None if head is None else head.generation}


def _derive(engine: Engine, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from icp_mcp.engine.derivation.derive import derive_icp
    from icp_mcp.engine.sql.versions import save_version

    from icp_mcp.engine.model.errors import InsufficientData

    try:
        definition = derive_icp(engine, closed_before=parse_date(args.get("closed_before"), "closed_before"),
                                best_top_n=args.get("best_top_n"), positives=args.get("positives"),
                                name=args.get("name"), progress=progress)
    except InsufficientData as exc:
        raise OpError(f"{exc.message}; no version stored", code=3, label="refused") from None
    status = "active" if args.get("activate") else "draft"
    version = save_version(engine, definition, args["by"], status=status, note=args.get("note"))
    stored = _store_state(engine, progress) if status == "active" else None
    shown = [c for c in definition.criteria if not c.minor]
    return {"version": version, "status": status, "criteria": len(shown),
            "minor": len(definition.criteria) - len(shown),
            "segments": len(definition.segments), "disqualifiers": len(definition.disqualifiers),
            "unsupported": len(definition.unsupported), "state": stored}


def _import(engine: Engine, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from icp_mcp.engine.model.errors import EngineError
    from icp_mcp.engine.scoring.tiers import ensure_tiers
    from icp_mcp.engine.sql.versions import import_definition, save_version

    path = Path(args["path"])
    if not path.exists():
        raise EngineError("path", f"no such file: {path}")
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    definition = ensure_tiers(engine, import_definition(path.read_text(), fmt))
    status = "active" if args.get("activate") else "draft"
    version = save_version(engine, definition, args["by"], status=status,
                           note=args.get("note") or f"imported from {path.name}")
    stored = _store_state(engine, progress) if status == "active" else None
    return {"version": version, "status": status, "state": stored}


def _activate(engine: Engine, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from icp_mcp.engine.sql.versions import activate

    info = activate(engine, int(args["version"]), args["by"])
    return {"version": info.version, "name": info.name, "state": _store_state(engine, progress)}


def _rollback(engine: Engine, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    from icp_mcp.engine.sql.versions import rollback

    info = rollback(engine, args["by"])
    return {"version": info.version, "name": info.name, "state": _store_state(engine, progress)}


_RUN: dict[str, Callable[[Engine, dict[str, Any], Progress], dict[str, Any]]] = {
    "ingest": _ingest, "icp.derive": _derive, "icp.import": _import, "icp.activate": _activate,
    "icp.rollback": _rollback, "icp.refresh": lambda engine, args, progress: {"state": _store_state(engine, progress)},
}


def run_op(engine: Engine, op: str, args: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    """Carry out write command `op` on `engine`; bad input and archive problems become `OpError`."""
    from icp_mcp.archive.db import ArchiveError
    from icp_mcp.archive.staging import IngestError
    from icp_mcp.engine.model.errors import EngineError
    from sqlalchemy.exc import DBAPIError

    if op not in _RUN:
        raise OpError(f"unknown write command {op!r} (allowed: {', '.join(_RUN)})")
    tick = progress or (lambda done, total, message: None)
    try:
        result = _RUN[op](engine, dict(args), tick)
    except OpError:
        raise
    except EngineError as exc:
        raise OpError(str(exc), candidates=[str(c) for c in getattr(exc, "candidates", None) or []]) from exc
    except (IngestError, ArchiveError) as exc:
        raise OpError(str(exc)) from exc
    except DBAPIError as exc:  # e.g. PostgreSQL went away in the middle
        first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise OpError(f"cannot write to the archive: {first[:300]}") from exc
    _forget_cached_results()
    return result


def run_read(engine: Engine, op: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer read operation `op` (`audit.tail`: the last n entries, oldest first) as JSON-able rows."""
    if op != "audit.tail":
        raise OpError(f"unknown read operation {op!r} (allowed: {', '.join(READ_OPS)})")
    from icp_mcp.server.audit import tail

    rows = tail(engine, n=int(args.get("n", 20)), subject=args.get("subject"))
    return [{k: (str(v) if isinstance(v, (datetime, date)) else v) for k, v in row.items()} for row in rows]


def _forget_cached_results() -> None:
    """The next tool call must see the new rows / version at once (cached cohorts are keyed by a
    fingerprint re-read only every few seconds)."""
    from icp_mcp.engine.sql import cache

    cache.clear()

"""Shared reading path for resources: permission check, engine call off the event loop, error mapping, audit.

Resources are read-only, so they always run on the archive's guarded reader engine.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pydantic_core
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from sqlalchemy import Engine

from icp_mcp.engine.model.errors import EngineError, NoActiveICP, NotFound
from icp_mcp.engine.sql import cache
from icp_mcp.surface.access import allowed, current_principal, denial_message
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import audit_call, error_message

logger = logging.getLogger("icp_mcp.resources")


def to_json(value: Any) -> str:
    """Compact JSON for pydantic models, dates and plain data."""
    return pydantic_core.to_json(value, fallback=str).decode()


def pretty_json(value: Any) -> str:
    """Indented JSON (resources are read by people too)."""
    return json.dumps(json.loads(to_json(value)), indent=1, ensure_ascii=False)


def _pinned(fn: Callable[[Engine], str], engine: Engine) -> str:
    with cache.pinned():  # one archive generation per read, as for tools
        return fn(engine)


async def read_resource(archive: ArchiveHandle, uri: str, fn: Callable[[Engine], str]) -> str:
    """Check `allowed(principal, "resource:<uri>")`, run `fn(reader)` in a thread, map errors, audit."""
    principal = current_principal()
    started = time.perf_counter()
    outcome, reason = "ok", None
    try:
        if not allowed(principal, f"resource:{uri}"):
            outcome, reason = "denied", denial_message(principal, f"resource:{uri}")
            raise ResourceError(f"permission denied: {reason}")
        return await anyio.to_thread.run_sync(_pinned, fn, archive.reader)
    except (NoActiveICP, NotFound) as exc:
        outcome = "error"
        raise ResourceNotFoundError(f"{uri}: {error_message(exc)}") from exc
    except EngineError as exc:
        outcome = "error"
        raise ResourceError(f"{uri}: {error_message(exc)}") from exc
    except ResourceError:
        raise
    except Exception as exc:
        outcome = "error"
        logger.exception("resource %s failed", uri)
        raise ResourceError(f"{uri}: internal error (logged on the server)") from exc
    finally:
        duration = round((time.perf_counter() - started) * 1000, 2)
        await anyio.to_thread.run_sync(audit_call, archive, principal.subject, f"resource:{uri}", {}, outcome, 1,
                                       duration, reason)

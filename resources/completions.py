"""MCP completions (`completion/complete`) for every prompt argument and resource-template variable.

One handler, keyed by the argument's name (the same name means the same thing in every prompt): `account`
(ids, names and domains of the accounts the caller may see), `topic`, `feature`, `cohort`, `segment`,
`rule_id`, `version`. Values start with what the user typed (case-insensitive); at most 100 are returned
with the total, as the protocol allows. Registering the handler declares the `completions` capability.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from mcp.server import MCPServer
from mcp.types import Completion
from sqlalchemy import Engine

from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.questions.adoption import known_features
from icp_mcp.engine.questions.cohorts import COHORT_FORMS, TIERS
from icp_mcp.engine.questions.voice import known_topics
from icp_mcp.engine.sql import versions
from icp_mcp.engine.sql.lookup import complete_accounts
from icp_mcp.surface.access import Principal, current_principal
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.visibility import named_territories

MAX_VALUES = 100


def _starting(values: list[str], typed: str) -> Completion:
    low = typed.strip().casefold()
    hits = [v for v in dict.fromkeys(values) if v.casefold().startswith(low)]
    return Completion(values=hits[:MAX_VALUES], total=len(hits), has_more=len(hits) > MAX_VALUES)


def _definition(engine: Engine) -> ICPDefinition | None:
    return versions.active_icp(engine, required=False)


def _segments(engine: Engine) -> list[str]:
    definition = _definition(engine)
    return [s.id for s in definition.segments] if definition else []


def _cohorts(engine: Engine) -> list[str]:
    fixed = [f for f in COHORT_FORMS if " " not in f and "<" not in f and f != "best:N"]
    return [*fixed, "best:10", "best:20", "best:50", *(f"tier:{t}" for t in TIERS),
            *(f"segment:{s}" for s in _segments(engine))]


def _rules(engine: Engine) -> list[str]:
    definition = _definition(engine)
    return [d.id for d in definition.disqualifiers] if definition else []


def _features(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return known_features(conn)


def _versions(engine: Engine) -> list[str]:
    return [str(v.version) for v in versions.list_versions(engine)]


#: Argument name → the values it can take (from the archive and the active ICP).
SOURCES: dict[str, Callable[[Engine], list[str]]] = {
    "topic": lambda engine: known_topics(),
    "feature": _features,
    "cohort": _cohorts,
    "segment": _segments,
    "rule_id": _rules,
    "version": _versions,
}


def complete(engine: Engine, principal: Principal, name: str, typed: str) -> Completion:
    """Completion values for argument `name` starting with `typed`, as `principal` may see them."""
    if name == "account":
        territories = named_territories(principal)  # the one visibility filter (surface/visibility.py)
        if territories is not None and not territories:
            return Completion(values=[], total=0, has_more=False)  # may name no account at all
        values, total = complete_accounts(engine, typed, territories, MAX_VALUES)
        return Completion(values=values, total=total, has_more=total > len(values))
    source = SOURCES.get(name)
    if source is None:
        return Completion(values=[], total=0, has_more=False)
    return _starting(source(engine), typed)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Install the completion handler (and with it the `completions` capability)."""

    @server.completion()
    async def handle_completion(ref, argument, context):  # noqa: ANN001, ANN202 (the SDK's signature)
        principal = current_principal()
        return await anyio.to_thread.run_sync(complete, archive.reader, principal, argument.name, argument.value or "")

"""`feature_adoption`: which groups of customers use a feature, how deeply, and do adopters retain better."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field

from icp_mcp.engine.questions import adoption
from icp_mcp.engine.questions.adoption import BY_ICP, BY_OPTIONS
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.surface.visibility import group_k, withheld, withheld_note
from icp_mcp.surface.settings import DEFAULT_LIMIT
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.arguments import AsOf, Cursor, Limit, since as since_arg
from icp_mcp.surface.runner import ToolRun, ToolSpec, decode_cursor, page_cursor, register_tool, retype, run_tool

SPEC = ToolSpec(name="feature_adoption", title="Feature adoption by segment", pure=True)
DEFAULT_SINCE = f"{adoption.DEFAULT_DAYS}d"  # the window the stored ICP state keeps adoption for
Since = since_arg(DEFAULT_SINCE)


class FeatureAdoptionResult(adoption.AdoptionResult):
    """Adoption per group with Wilson intervals, depth, and retention of adopters vs non-adopters."""


def answer(run: ToolRun, args: dict, cursor: str | None) -> FeatureAdoptionResult:
    """Resolve the window and grouping, ask the engine, suppress small groups for this caller."""
    offset = decode_cursor(SPEC.name, args, cursor)
    window = resolve_window(args["since"] or DEFAULT_SINCE, None, args["as_of"])
    definition = active_icp(run.engine, required=False)
    by = args["by"] or ("segment" if definition is not None and definition.segments else "industry")
    limit = args["limit"]
    found = adoption.feature_adoption(
        run.engine, feature=args["feature"], by=by, window=window, definition=definition,
        k_min=group_k(run.principal), limit=limit, offset=offset,
    )
    hidden = 0
    for group in found.groups:  # the small-group rule: figures withheld, the group and its size kept
        if withheld(run.principal, group.n):
            group.suppress()
            hidden += 1
    summary = found.summary + (" " + withheld_note(run.principal, hidden) if hidden else "")
    more = offset + len(found.groups) < found.total_groups
    return retype(FeatureAdoptionResult, found, summary=summary, suppressed_groups=hidden,
                  next_cursor=page_cursor(SPEC.name, args, offset, len(found.groups), limit, more))


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def feature_adoption(
        ctx: Context,
        feature: Annotated[str, Field(description="e.g. sso")],
        by: Annotated[str | None, Field(
            description=f"{', '.join(BY_OPTIONS)} (default segment)")] = None,
        since: Since = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        as_of: AsOf = None,
    ) -> FeatureAdoptionResult:
        """Which segments (or groups) use a feature and do adopters retain better: adoption with intervals,
        depth, and NRR and churn of adopters vs non-adopters."""
        args = {"feature": feature, "by": by, "since": since, "limit": limit, "as_of": as_of}
        return await run_tool(ctx, archive, SPEC, {**args, "cursor": cursor},
                              lambda run: answer(run, args, cursor))

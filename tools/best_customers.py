"""`best_customers`: the best-customer cohort ranked by value, with value components, paginated."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.questions import value
from icp_mcp.engine.sql import versions
from icp_mcp.engine.questions.value import BestCustomer
from icp_mcp.surface.access import allowed
from icp_mcp.surface.arguments import Cursor, Limit
from icp_mcp.surface.settings import DEFAULT_LIMIT
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import register_tool, ToolRun, ToolSpec, decode_cursor, page_cursor, run_tool

SPEC = ToolSpec(name="best_customers", title="Best customers by value")


class BestCustomersResult(BaseModel):
    """One page of the best-customer cohort and how the cohort was chosen."""

    rule: str = Field(description="how the cohort was chosen")
    value_formula: str | None = None
    segment: str | None = None
    n_customers: int = Field(description="customers considered")
    n: int = Field(description="customers in the cohort")
    cohort_revenue: float | None = None
    total_revenue: float | None = None
    revenue_share: float | None = None
    items: list[BestCustomer]
    next_cursor: str | None = None
    redacted: list[str] = Field(default_factory=list, description="fields withheld (revenue needs revenue:read)")
    truncated: bool = False


def page(run: ToolRun, args: dict, segment: str | None, top_n: int | None, limit: int, cursor: str | None,
         closed_before: date | None) -> BestCustomersResult:
    """Fetch the page the cursor points at and build the next cursor."""
    offset = decode_cursor(SPEC.name, args, cursor)
    definition = versions.active_icp(run.engine, required=False)  # segments come from the active ICP (None: no segments)
    if segment is not None and definition is not None:  # a segment's name works as well as its id
        segment = next((s.id for s in definition.segments if segment.strip().casefold() in
                        (s.id.casefold(), s.name.casefold())), segment)
    found = value.best_customers(run.engine, definition=definition, top_n=top_n, segment=segment, limit=limit, offset=offset,
                                 closed_before=closed_before)
    more = found.next_offset is not None or offset + len(found.items) < found.n
    result = BestCustomersResult(
        rule=found.rule, value_formula=found.value_formula, segment=found.segment, n_customers=found.n_customers, n=found.n,
        cohort_revenue=found.cohort_revenue, total_revenue=found.total_revenue,
        revenue_share=found.revenue_share, items=found.items,
        next_cursor=page_cursor(SPEC.name, args, offset, len(found.items), limit, more),
        truncated=found.truncated,
    )
    for item in result.items:  # row-level rule: who the account is only within the caller's territories
        if not allowed(run.principal, "account", item.territory):
            item.account_id, item.name = "(hidden)", "(outside your territories)"
    return result


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def best_customers(
        ctx: Context,
        segment: Annotated[str | None, Field(description="ICP segment id or name")] = None,
        top_n: Annotated[int | None, Field(ge=1, le=100000, description="cohort = top N by value "
                                           "(default: smallest set with 80% of revenue)")] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        closed_before: Annotated[date | None, Field(description="only deals closed before this day")] = None,
    ) -> BestCustomersResult:
        """Who are the best customers: ranked by value score (ARR, revenue, retention, time to value,
        support load) with each component, optionally within an ICP segment."""
        args = {"segment": segment, "top_n": top_n, "limit": limit, "closed_before": closed_before}
        return await run_tool(ctx, archive, SPEC, {**args, "cursor": cursor},
                              lambda run: page(run, args, segment, top_n, limit, cursor, closed_before))

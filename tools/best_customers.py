"""`best_customers`: the best-customer cohort ranked by value, with value components, paginated."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.questions import value
from icp_mcp.engine.sql import versions
from icp_mcp.engine.questions.value import BestCustomer, Share
from icp_mcp.surface.arguments import Cursor, Limit
from icp_mcp.surface.settings import DEFAULT_LIMIT
from icp_mcp.surface.visibility import account_view, outside_note, withheld, withheld_note
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import register_tool, ToolRun, ToolSpec, decode_cursor, page_cursor, run_tool

SPEC = ToolSpec(name="best_customers", title="Best customers by value", pure=True)


class BestCustomersResult(BaseModel):
    """One page of the best-customer cohort and how the cohort was chosen."""

    rule: str = Field(description="how the cohort was chosen")
    value_formula: str | None = None
    segment: str | None = None
    n_customers: int | None = None
    n: int | None = Field(description="customers in the cohort")
    n_in_view: int = Field(description="of those you may see")
    outside_view: int | None = Field(0, description="never named")
    cohort_revenue: float | None = Field(None, description="null without revenue:read")
    total_revenue: float | None = Field(None, description="null without revenue:read")
    revenue_share: float | None = None
    shares: list[Share]
    items: list[BestCustomer]
    note: str | None = None
    next_cursor: str | None = None
    redacted: list[str] = Field(default_factory=list, description="fields withheld (revenue needs revenue:read)")
    truncated: bool = False


def page(run: ToolRun, args: dict, segment: str | None, top_n: int | None, limit: int, cursor: str | None,
         closed_before: date | None) -> BestCustomersResult:
    """Fetch the page the cursor points at (only accounts in the caller's view) and build the next cursor."""
    offset = decode_cursor(SPEC.name, args, cursor)
    view = account_view(run.principal)
    definition = versions.active_icp(run.engine, required=False)  # segments come from the active ICP (None: no segments)
    if segment is not None and definition is not None:  # a segment's name works as well as its id
        segment = next((s.id for s in definition.segments if segment.strip().casefold() in
                        (s.id.casefold(), s.name.casefold())), segment)
    found = value.best_customers(run.engine, definition=definition, top_n=top_n, segment=segment, limit=limit,
                                 offset=offset, closed_before=closed_before, territories=view.territories)
    more = found.next_offset is not None or offset + len(found.items) < found.n_in_view
    outside: int | None = found.n - found.n_in_view
    notes = []
    n, n_customers, share, cohort_revenue = found.n, found.n_customers, found.revenue_share, found.cohort_revenue
    small = [s for s in found.shares if withheld(run.principal, s.n)]
    for item in small:  # the small-group rule: a share resting on fewer than k accounts is withheld
        item.n = item.share = None
    if small:
        notes.append(withheld_note(run.principal, len(small), "share(s)"))
    if withheld(run.principal, found.n):  # the cohort itself is a small group (e.g. a narrow segment)
        n = share = cohort_revenue = outside = None
        notes.append(withheld_note(run.principal, 1, "cohort total"))
    if withheld(run.principal, found.n_customers):
        n_customers = None
    if outside:
        notes.insert(0, outside_note(view, outside, "best customers"))
    return BestCustomersResult(
        rule=found.rule, value_formula=found.value_formula, segment=found.segment, n_customers=n_customers, n=n, n_in_view=found.n_in_view,
        outside_view=outside, cohort_revenue=cohort_revenue, total_revenue=found.total_revenue,
        revenue_share=share, shares=found.shares, items=found.items, note=" ".join(x for x in notes if x) or None,
        next_cursor=page_cursor(SPEC.name, args, offset, len(found.items), limit, more),
        truncated=found.truncated,
    )


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

"""`derive_icp` (write): propose a new ICP version from current data, stored as a draft, with progress."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.model.numbers import pct
from icp_mcp.engine.derivation import derive
from icp_mcp.engine.sql import versions
from icp_mcp.engine.model.profile import ICPDefinition, Segment
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import register_tool, ToolRun, ToolSpec, run_tool

SPEC = ToolSpec(name="derive_icp", title="Derive a draft ICP version", write=True, idempotent=False)

#: Lines of each kind shown in the result (the card shows at most 12 criteria); the full draft is at
#: icp://versions/{version}.
SHOWN = 12


class DeriveResult(BaseModel):
    """The stored draft: its version number, what it says in brief, and how to activate it."""

    version: int
    status: str = "draft"
    name: str
    population: int | None = Field(None, description="worked accounts (n)")
    positives: int | None = Field(None, description="best customers among them")
    base_rate: float | None = None
    criteria: list[str] = Field(description="strongest, with points")
    n_criteria: int
    segments: list[str]
    disqualifiers: list[str] = Field()
    unsupported: list[str] = Field(description="claims the data does not support")
    next_step: str
    truncated: bool = False


def _segment_line(s: Segment) -> str:
    """'s1: Mid-market (200–999 employees) Software/Fintech (+24 points; 9% of accounts, 26% of wins, 38% of
    revenue)'."""
    shares = [f"{pct(x)} of {what}" for x, what in ((s.share_accounts, "accounts"), (s.share_wins, "wins"),
                                                   (s.share_revenue, "revenue")) if x is not None]
    return f"{s.id}: {s.name} ({s.points:+d} points" + (f"; {', '.join(shares)})" if shares else ")")


def summarise(version: int, definition: ICPDefinition) -> DeriveResult:
    """A compact summary of a stored draft."""
    shown = [c for c in definition.criteria if not c.minor]
    strongest = sorted(shown, key=lambda c: -abs(c.points))[:SHOWN]
    return DeriveResult(
        version=version, name=definition.name, population=definition.population,
        positives=definition.positives, base_rate=definition.base_rate,
        criteria=[f"{c.describe()} ({c.points:+d})" for c in strongest], n_criteria=len(shown),
        segments=[_segment_line(s) for s in definition.segments],
        disqualifiers=[f"{d.id}: {d.describe()}" for d in definition.disqualifiers[:SHOWN]],
        unsupported=definition.unsupported[:SHOWN],
        next_step=f"review icp://versions/{version}, then activate_icp with version={version} (asks to confirm)",
    )


def derive_draft(run: ToolRun, closed_before: date | None, best_top_n: int | None, note: str | None) -> DeriveResult:
    """Derive (reporting progress), then store the draft through the single writer."""
    run.progress(0, 1, "deriving the ICP")
    definition = derive.derive_icp(run.engine, closed_before=closed_before, best_top_n=best_top_n,
                                   progress=run.progress)
    version = run.write(versions.save_version, definition, run.principal.subject, "draft", note)
    run.progress(1, 1, f"stored draft version {version}")
    return summarise(version, definition)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def derive_icp(
        ctx: Context,
        closed_before: Annotated[date | None, Field(description="only deals closed before this day")] = None,
        best_top_n: Annotated[int | None, Field(ge=1, le=100000, description="positives = top N by value")] = None,
        note: Annotated[str | None, Field(max_length=500)] = None,
    ) -> DeriveResult:
        """Re-derive the ICP from current data and store it as a DRAFT version (the active ICP stays);
        use when check_drift says refresh or the user asks. Then activate_icp."""
        args = {"closed_before": closed_before, "best_top_n": best_top_n, "note": note}
        return await run_tool(ctx, archive, SPEC, args,
                              lambda run: derive_draft(run, closed_before, best_top_n, note))

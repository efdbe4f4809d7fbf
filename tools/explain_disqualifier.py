"""`explain_disqualifier`: a disqualifier rule (or an account's hit), its evidence, exceptions, recent support."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.questions import disqualifiers
from icp_mcp.engine.questions.disqualifiers import DisqualifierExplanation
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import (
    ToolInputError, ToolRun, ToolSpec, account_territory, active_icp, check_account_access, register_tool, run_tool,
)

SPEC = ToolSpec(name="explain_disqualifier", title="Explain a disqualifier")


class ExplainDisqualifierResult(BaseModel):
    """The rule, the evidence behind it, a sentence a rep can cite, exceptions and whether it still holds."""

    explanation: DisqualifierExplanation
    truncated: bool = False


def explain(run: ToolRun, rule_id: str | None, account: str | None) -> ExplainDisqualifierResult:
    """Validate and ask the engine (which names the allowed rule ids when one is unknown)."""
    if rule_id is None and account is None:
        raise ToolInputError("rule_id", "give rule_id (see icp://current) or account (to explain its hit)")
    definition = active_icp(run.engine)
    found = disqualifiers.explain_disqualifier(run.engine, definition, rule_id=rule_id, account=account)
    if found.account_id is not None:  # row level: an account's hit only inside the caller's territories
        check_account_access(run, account_territory(run.engine, found.account_id), found.account_id)
    return ExplainDisqualifierResult(explanation=found)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def explain_disqualifier(
        ctx: Context,
        rule_id: Annotated[str | None, Field(description="disqualifier id, as in score_account or icp://current")] = None,
        account: Annotated[str | None, Field(description="account id, domain or name: explain the rule it hits")] = None,
    ) -> ExplainDisqualifierResult:
        """Explain why a disqualifier exists: the rule, its evidence (n, rate, interval vs base), a sentence
        a rep can cite, won exceptions, and whether recent deals still support it. Give rule_id, or an
        account to explain the rule that account hits."""
        args = {"rule_id": rule_id, "account": account}
        return await run_tool(ctx, archive, SPEC, args, lambda run: explain(run, rule_id, account))

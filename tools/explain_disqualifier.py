"""`explain_disqualifier`: a disqualifier rule (or an account's hit), its evidence, exceptions, recent support."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.questions import disqualifiers
from icp_mcp.engine.model.errors import NotFound
from icp_mcp.engine.model.profile import Disqualifier, ICPDefinition
from icp_mcp.engine.questions.disqualifiers import DisqualifierExplanation
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.visibility import account_view
from icp_mcp.surface.runner import (
    ToolInputError, ToolRun, ToolSpec, account_territory, check_account_access, register_tool, run_tool,
)

SPEC = ToolSpec(name="explain_disqualifier", title="Explain a disqualifier", pure=True)


#: A phrase matches a rule when its similarity reaches this (difflib ratio over the normalised words) …
MIN_SIMILARITY = 0.6
#: … and beats the runner-up by this much; otherwise the closest rules are listed as candidates.
MIN_MARGIN = 0.1
#: The rule's evidence and sentence are the explanation's own (`explanation.evidence`, `.sentence`): not twice.
BRIEF = {"explanation": {"rule": {"evidence", "sentence"}}}


class ExplainDisqualifierResult(BaseModel):
    """The rule, the evidence behind it, a sentence a rep can cite, exceptions and whether it still holds."""

    matched: str | None = Field(None, description="how rule_id was read")
    explanation: DisqualifierExplanation
    truncated: bool = False


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def _similarity(query: str, rule: Disqualifier) -> float:
    """How well `query` names `rule`: 1 for its id or one of its values, else the best difflib ratio against
    its id, values and condition (a phrase whose every word occurs in the rule counts 0.9)."""
    q = _words(query)
    names = [rule.id, *rule.accepted(), rule.describe(), f"{rule.attribute} {' '.join(rule.accepted())}"]
    forms = [_words(n) for n in names]
    if q in forms[:1 + len(rule.accepted())]:
        return 1.0
    if set(q.split()) <= set(" ".join(forms).split()):
        return 0.9
    return max(SequenceMatcher(None, q, f).ratio() for f in forms)


def resolve_rule(definition: ICPDefinition, query: str) -> tuple[str, str | None]:
    """The id of the disqualifier `query` names (an id, a value such as "pre-seed", or a close phrase such as
    "Pre-Seed funding") and a note on how it was read; NotFound with the closest rules when it is unclear."""
    rules = definition.disqualifiers
    exact = [d.id for d in rules if d.id == query.strip()]
    if exact:
        return exact[0], None
    ranked = sorted(((_similarity(query, d), d) for d in rules), key=lambda pair: -pair[0])
    if ranked and ranked[0][0] >= MIN_SIMILARITY and (
            len(ranked) == 1 or ranked[0][0] - ranked[1][0] >= MIN_MARGIN):
        best = ranked[0][1]
        return best.id, f"{query!r} read as {best.id} ({best.describe()})"
    candidates = [{"rule_id": d.id, "condition": d.describe()} for _, d in ranked]  # closest first
    raise NotFound("rule_id", f"no disqualifier clearly matches {query!r}", candidates)


def explain(run: ToolRun, rule_id: str | None, account: str | None) -> ExplainDisqualifierResult:
    """Read the rule (id, value or phrase), ask the engine, enforce the territory rule for an account's hit."""
    if rule_id is None and account is None:
        raise ToolInputError("rule_id", "give rule_id (see icp://current) or account (to explain its hit)")
    definition = active_icp(run.engine)
    matched = None
    if rule_id is not None:
        rule_id, matched = resolve_rule(definition, rule_id)
    view = account_view(run.principal)  # the account and the named exceptions only within the caller's view
    found = disqualifiers.explain_disqualifier(run.engine, definition, rule_id=rule_id, account=account,
                                               territories=view.territories)
    if found.account_id is not None:
        check_account_access(run, account_territory(run.engine, found.account_id), account)
    return ExplainDisqualifierResult(matched=matched, explanation=found)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def explain_disqualifier(
        ctx: Context,
        rule_id: Annotated[str | None, Field(description='rule id, value or phrase, e.g. "pre-seed"')] = None,
        account: Annotated[str | None, Field(description="or an account: the rule it hits")] = None,
    ) -> ExplainDisqualifierResult:
        """Why is something a disqualifier, and does recent data still support it: the rule, its evidence
        against the base rate, a sentence to cite, won exceptions, recent deals."""
        args = {"rule_id": rule_id, "account": account}
        return await run_tool(ctx, archive, SPEC, args, lambda run: explain(run, rule_id, account), exclude=BRIEF)

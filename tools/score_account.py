"""`score_account`: does one account (or a prospect) fit the active ICP, and why."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from icp_mcp.engine.questions.committee import BuyingCommittee, CommitteeContact, buying_committee
from icp_mcp.engine.scoring import one as score_engine
from icp_mcp.engine.scoring.results import AccountCandidates, AccountScore
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.arguments import Detail
from icp_mcp.surface.runner import (
    ToolInputError, ToolRun, ToolSpec, check_account_access, register_tool, run_tool,
)
from icp_mcp.surface.visibility import account_view, visible_accounts

SPEC = ToolSpec(name="score_account", title="Score an account against the ICP")

#: The buying committee's keyed reads (contacts, deals, conversations) run beside the scoring's (attributes,
#: similar customers): DuckDB answers each from one row group on one core, so two calls' worth overlap.
_COMMITTEE_READS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="icp-committee")

#: Compact by default: the most informative lines only (the rest are counted, not listed).
MAX_MISSED = 8
MAX_SIMILAR = 3


#: What the compact default leaves out (`detail=true` returns it): the scored attribute values (the criteria
#: lines show the account's value where it matters) and which values a similar customer shares.
BRIEF = {"score": {"attributes": True, "similar_best_customers": {"__all__": {"shared_values"}}}}


class ScoreAccountResult(BaseModel):
    """A score (fit_score, tier, win_probability, criteria met/missed, disqualifiers) or candidates."""

    status: Literal["scored", "candidates"]
    score: AccountScore | None = None
    candidates: AccountCandidates | None = None
    segment_names: dict[str, str] = Field(default_factory=dict)
    committee: str = ""  # whom to talk to first (the contacts below), and winning roles nobody holds
    contacts: list[CommitteeContact] = Field(default_factory=list)
    missing_roles: list[str] = Field(default_factory=list)
    missed_not_shown: int = Field(0, description="missed criteria left out")
    truncated: bool = False


def _compact(result: AccountScore) -> tuple[AccountScore, int]:
    missed = sorted(result.missed, key=lambda hit: -abs(hit.points))
    hidden = max(0, len(missed) - MAX_MISSED)
    result.missed = missed[:MAX_MISSED]
    result.similar_best_customers = result.similar_best_customers[:MAX_SIMILAR]
    return result, hidden


def score_one(run: ToolRun, account: str | None, attributes: dict[str, Any] | None) -> ScoreAccountResult:
    """Validate, score against the active ICP, enforce the territory rule, compact."""
    if (account is None) == (attributes is None):
        raise ToolInputError("account", "give exactly one of account (id, domain or name) or attributes (a prospect)")
    if account is not None and not account.strip():
        raise ToolInputError("account", "must not be empty")
    definition = active_icp(run.engine)
    view = account_view(run.principal)  # lookups and similar customers only within the caller's view
    committee: list[Future[BuyingCommittee]] = []

    def read_committee(account_id: str) -> None:  # keyed reads of its own, while the account is scored
        committee.append(_COMMITTEE_READS.submit(buying_committee, run.engine, definition, account_id))

    try:
        result = score_engine.score_account(run.engine, definition, account=account, attributes=attributes,
                                            territories=view.territories, anonymous=not view.names_accounts,
                                            on_found=read_committee)
    except BaseException:
        for pending in committee:
            pending.cancel()
        raise
    if isinstance(result, AccountCandidates):
        result.candidates = visible_accounts(run.principal, result.candidates)
        return ScoreAccountResult(status="candidates", candidates=result)
    if result.account_id is not None:
        check_account_access(run, result.territory, account)
    result, hidden = _compact(result)
    names = {seg.id: seg.name for seg in definition.segments if seg.id in result.segments}
    if result.account_id is None:  # a prospect: no contacts known
        return ScoreAccountResult(status="scored", score=result, segment_names=names, missed_not_shown=hidden)
    found = committee[0].result() if committee else buying_committee(run.engine, definition, result.account_id)
    return ScoreAccountResult(status="scored", score=result, segment_names=names, committee=found.summary,
                              contacts=found.contacts, missing_roles=found.missing_roles, missed_not_shown=hidden)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def score_account(
        ctx: Context,
        account: Annotated[str | None, Field(description="account id, domain or name")] = None,
        attributes: Annotated[dict[str, Any] | None, Field(
            description='a prospect instead, e.g. {"industry": "Healthcare", "employees": 800}')] = None,
        detail: Detail = False,
    ) -> ScoreAccountResult:
        """Does an account or prospect fit the ICP, and why: fit score, tier, win probability, criteria met
        and missed with evidence, disqualifiers, similar best customers. An unclear name returns candidates."""
        args = {"account": account, "attributes": attributes}
        return await run_tool(ctx, archive, SPEC, {**args, "detail": detail},
                              lambda run: score_one(run, account, attributes), exclude=None if detail else BRIEF)

"""`customer_voice`: what a cohort of customers said on a topic or question: quotes, citations, counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from pydantic import Field

from icp_mcp.engine.questions import voice
from icp_mcp.engine.questions.cohorts import resolve_cohort
from icp_mcp.engine.sql.versions import active_icp
from icp_mcp.engine.model.windows import resolve_window
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.engine.sql.lookup import account_identities, contact_names
from icp_mcp.surface.access import allowed
from icp_mcp.surface.visibility import account_view, mask_accounts, withheld, withheld_note
from icp_mcp.surface.arguments import AsOf, Cursor, Detail, Limit, Until, since as since_arg
from icp_mcp.surface.runner import (
    ToolRun, ToolSpec, decode_cursor, page_cursor, register_tool, retype, run_tool,
)

SPEC = ToolSpec(name="customer_voice", title="Customer voice: quotes on a topic", pure=True)
DEFAULT_SINCE = "90d"
#: Quotes per page by default: ten cited quotes plus the counts fit a compact answer (issue 15).
QUOTES = 10
#: What the compact default leaves out of each quote (`detail=true` keeps it): the ranking score and the
#: speaker side (vendor turns are never quoted; the contact's title and role say who spoke).
BRIEF = {"quotes": {"__all__": {"score", "speaker"}}}
BRIEF_ACCOUNTS = 5
Since = since_arg(DEFAULT_SINCE)


class CustomerVoiceResult(voice.VoiceResult):
    """Quoted snippets (with attribution, date, channel, speaker, conversation and snippet ids) plus counts."""

    total: int | None = Field(description="matching snippets")
    accounts: int | None = None


def answer(run: ToolRun, args: dict, cursor: str | None, detail: bool = False) -> CustomerVoiceResult:
    """Resolve window and cohort within the caller's view, ask the engine for one page, apply the
    small-group rule and, for callers who may name no account, attribute quotes by firmographics only.
    Contact PII in quote text is masked later, by the server's redaction middleware."""
    offset = decode_cursor(SPEC.name, args, cursor)
    window = resolve_window(args["since"] or DEFAULT_SINCE, args["until"], args["as_of"])
    spec = args["cohort"]
    needs_icp = isinstance(spec, str) and spec.strip().lower().split(":")[0] in ("icp", "tier", "segment")
    definition = active_icp(run.engine, required=False) if needs_icp else None
    view = account_view(run.principal)
    cohort = resolve_cohort(
        run.engine, spec, definition=definition, territories=view.scope, named=view.territories,
        closed_before=window.as_of + timedelta(days=1),
    )
    limit = args["limit"]
    with run.engine.connect() as conn:
        found = voice.customer_voice(
            conn, window=window, cohort=cohort.ids, cohort_label=cohort.label, topic=args["topic"],
            question=args["question"], channel=args["channel"], persona=args["persona"],
            value=voice.value_selectable(run.engine), limit=limit, offset=offset,
        )
        quoted = [q.account_id for q in found.quotes if q.account_id]
        hide = ([], [], []) if view.names_accounts else (
            *account_identities(conn, quoted), [] if allowed(run.principal, "field:pii") else contact_names(conn, quoted))
    behind = found.accounts if found.total else (found.empty.cohort_accounts if found.empty else 0)
    if behind and withheld(run.principal, behind):  # the small-group rule: suppress, and say so
        return retype(CustomerVoiceResult, found,
                      summary=f"{cohort.label}: " + withheld_note(run.principal, 1, "answer")
                      + " Widen the cohort or the window.",
                      total=None, accounts=None, quotes=[], by_topic=[], by_tone=[], by_account=[], empty=None,
                      next_cursor=None)
    more = offset + len(found.quotes) < found.total
    if not detail:  # compact: the five accounts with most snippets (detail=true: the top ten)
        found.by_account = found.by_account[:BRIEF_ACCOUNTS]
    if not view.names_accounts:  # attributed by segment and firmographics, never by name
        found.by_account = []
        found.quotes = [q.model_copy(update={"account_id": None, "account_name": None,
                                             "text": mask_accounts(q.text, *hide)}) for q in found.quotes]
    return retype(CustomerVoiceResult, found,
                  next_cursor=page_cursor(SPEC.name, args, offset, len(found.quotes), limit, more))


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def customer_voice(
        ctx: Context,
        topic: Annotated[str | None, Field(
            description="pricing, security_compliance, integrations, onboarding, support, competitors, "
                        "roi_value or product_gaps")] = None,
        question: Annotated[str | None, Field(description="free-text keywords")] = None,
        cohort: Annotated[str | list[str] | None, Field(
            description="all, customers, best, best:N, icp, tier:A, segment:<id>, or account ids")] = "all",
        since: Since = None,
        until: Until = None,
        persona: Annotated[str | None, Field(
            description="buying role (champion, economic_buyer, …) or title word (CFO)")] = None,
        channel: Annotated[str | None, Field(description="call, meeting, email, ticket, note or survey")] = None,
        limit: Limit = QUOTES,
        cursor: Cursor = None,
        as_of: AsOf = None,
        detail: Detail = False,
    ) -> CustomerVoiceResult:
        """What did customers say on a topic or question: cited quotes (snippet, account, date, role)
        from a cohort in a window, with counts by topic, tone and account."""
        args = {"topic": topic, "question": question, "cohort": cohort, "since": since, "until": until,
                "persona": persona, "channel": channel, "limit": limit, "as_of": as_of}
        return await run_tool(ctx, archive, SPEC, {**args, "cursor": cursor, "detail": detail},
                              lambda run: answer(run, args, cursor, detail), exclude=None if detail else BRIEF)

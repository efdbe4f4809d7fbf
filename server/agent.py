"""`icp-mcp ask`: a Claude agent that answers one question with the server's tools, citing its evidence.

Built on the anthropic SDK's MCP helpers: the server's tools are listed through an in-memory MCP client
(`mcp.Client(server)`), converted with `anthropic.lib.tools.mcp.async_mcp_tool`, and driven by the SDK's
tool runner (`client.beta.messages.tool_runner`), which calls them through the same MCP client and feeds
the results back until Claude answers. `ANTHROPIC_API_KEY` is required; `ANTHROPIC_BASE_URL` is honoured
by the SDK (the tests point it at a fake Messages API on loopback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mcp import Client
from mcp.server import MCPServer

from icp_mcp.surface.settings import DEFAULT_MODEL, MAX_TURNS, MissingAPIKey, require_api_key

SYSTEM_PROMPT = """\
You answer Ideal Customer Profile questions using only the icp-mcp tools provided, which query the
company's own buyer archive. Call the tools you need, then answer briefly. Every claim must carry its
evidence: cite the tool you used in square brackets (e.g. [score_account]), the counts (n, rates,
intervals) and any snippet ids or account ids. If a tool returns an error or candidates, say so or pick
the right candidate and call again. Never invent numbers.

Server instructions:
{instructions}
"""


class AgentFailure(RuntimeError):
    """The Messages API could not answer (rejected key, unreachable, rate limit, overloaded): one line."""


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups — the SDK's task groups wrap the real cause."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def describe_failure(exc: BaseException, base_url: str | None = None) -> str | None:
    """One line naming the cause of a Messages API failure, or None when `exc` is not one."""
    import anthropic

    where = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    for leaf in _leaves(exc):
        status = getattr(leaf, "status_code", None)
        if isinstance(leaf, anthropic.AuthenticationError):
            return "the Anthropic API rejected the key (401): check ANTHROPIC_API_KEY"
        if isinstance(leaf, anthropic.PermissionDeniedError):
            return "the Anthropic API refused this key access (403): check its permissions"
        if isinstance(leaf, anthropic.RateLimitError):
            return "the Anthropic API rate limit was hit (429): wait a minute and ask again"
        if isinstance(leaf, anthropic.OverloadedError) or status == 529:
            return "the Anthropic API is overloaded (529): try again shortly"
        if isinstance(leaf, anthropic.APIConnectionError):  # includes timeouts
            return f"cannot reach the Anthropic API at {where}: check the network or ANTHROPIC_BASE_URL"
        if isinstance(leaf, anthropic.APIStatusError):
            message = getattr(leaf, "message", "") or str(leaf)
            return f"the Anthropic API failed ({status}): {message.splitlines()[0][:200]}"
    return None


@dataclass
class ToolCall:
    """One tool call the agent made (for the citation trail)."""

    name: str
    arguments: dict[str, Any]


@dataclass
class Answer:
    """The agent's final text and the tool calls behind it."""

    text: str
    calls: list[ToolCall] = field(default_factory=list)
    turns: int = 0

    def citations(self) -> str:
        """One line per tool call: the trail a reader can repeat with `icp-mcp call`."""
        lines = []
        for call in self.calls:
            args = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
            lines.append(f"- {call.name}({args})")
        return "\n".join(lines)


async def ask(server: MCPServer | Any, question: str, *, model: str = DEFAULT_MODEL, max_tokens: int = 2048,
              max_turns: int = MAX_TURNS) -> Answer:
    """Answer `question` with Claude using the server's tools through an in-memory MCP client."""
    from anthropic import AsyncAnthropic

    api_key = require_api_key()
    client = AsyncAnthropic(api_key=api_key, max_retries=1)
    try:
        return await _run(client, server, question, model=model, max_tokens=max_tokens, max_turns=max_turns)
    except BaseException as exc:
        cause = describe_failure(exc, str(client.base_url))
        if cause is None:
            raise
        raise AgentFailure(cause) from None
    finally:
        await client.close()


async def _run(client: Any, server: MCPServer, question: str, *, model: str, max_tokens: int,
               max_turns: int) -> Answer:
    """The tool-runner loop of `ask`."""
    from anthropic.lib.tools.mcp import async_mcp_tool

    answer = Answer(text="")
    async with Client(server) as mcp_client:
        listed = await mcp_client.list_tools()
        # Read-only tools only: an agent answering a question never derives or activates an ICP.
        readable = [t for t in listed.tools if t.annotations is not None and t.annotations.read_only_hint]
        tools = [async_mcp_tool(tool, mcp_client) for tool in readable]  # type: ignore[arg-type]
        runner = client.beta.messages.tool_runner(
            model=model,
            max_tokens=max_tokens,
            system=SYSTEM_PROMPT.format(instructions=mcp_client.instructions or ""),
            tools=tools,
            messages=[{"role": "user", "content": question}],
            max_iterations=max_turns,
        )
        last = None
        async for message in runner:
            answer.turns += 1
            last = message
            for block in message.content:
                if getattr(block, "type", None) == "tool_use":
                    answer.calls.append(ToolCall(name=block.name, arguments=dict(block.input or {})))
        if last is not None:
            answer.text = "".join(getattr(b, "text", "") for b in last.content if getattr(b, "type", None) == "text")
    return answer

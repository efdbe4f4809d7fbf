"""Talk to a running icp-mcp HTTP server with the MCP Python SDK.

    icp-mcp serve --archive .demo/demo.duckdb --transport http --port 8765 &
    python examples/http_client.py http://127.0.0.1:8765/mcp A0000061

With a policy file, pass a bearer token: ICP_TOKEN=... python examples/http_client.py URL ACCOUNT
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import Client


#: The last HTTP status and WWW-Authenticate header seen (to explain a refusal in one line).
_last: dict[str, object] = {}


async def _remember(response) -> None:
    _last["status"] = response.status_code
    _last["www_authenticate"] = response.headers.get("www-authenticate", "")


def transport_for(url: str):
    """An HTTP transport to `url`, carrying a bearer token when ICP_TOKEN is set."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    token = os.environ.get("ICP_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers,
                                                                        event_hooks={"response": [_remember]}))


def explain(url: str, exc: BaseException) -> str:
    """One line for a failed session: the HTTP refusal when there was one, else the innermost error."""
    status = _last.get("status")
    if status == 401:
        hint = "set ICP_TOKEN to a bearer token (icp-mcp token create)" if not os.environ.get("ICP_TOKEN") \
            else "ICP_TOKEN was refused (revoked, expired or mistyped)"
        return f"error: {url} answered 401 Unauthorized: {hint}"
    if status == 403:
        return f"error: {url} answered 403 Forbidden: {_last.get('www_authenticate') or 'insufficient scope'}"
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"error: {url}: {type(exc).__name__}: {exc}"


async def main(url: str, account: str) -> None:
    async with Client(transport_for(url)) as client:
        tools = await client.list_tools()
        print("tools:", ", ".join(t.name for t in tools.tools))

        scored = await client.call_tool("score_account", {"account": account})
        if scored.is_error:
            print("error:", scored.content[0].text)
            return
        score = scored.structured_content["score"] or {}
        print(json.dumps({k: score.get(k) for k in ("account_id", "name", "fit_score", "tier", "win_probability")}))
        for hit in score.get("disqualifiers", []):
            explained = await client.call_tool("explain_disqualifier", {"rule_id": hit["id"]})
            print("disqualifier:", explained.structured_content["explanation"]["sentence"])

        personas = await client.read_resource("icp://personas")
        print("personas:", personas.contents[0].text[:400], "...")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765/mcp"
    try:
        asyncio.run(main(target, sys.argv[2] if len(sys.argv) > 2 else "A0000061"))
    except Exception as exc:  # noqa: BLE001 - one line, no traceback
        print(explain(target, exc), file=sys.stderr)
        sys.exit(1)

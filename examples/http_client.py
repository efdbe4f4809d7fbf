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


def transport_for(url: str):
    """The URL itself, or an HTTP transport carrying a bearer token when ICP_TOKEN is set."""
    token = os.environ.get("ICP_TOKEN")
    if not token:
        return url
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    return streamable_http_client(url, http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}))


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
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765/mcp",
                     sys.argv[2] if len(sys.argv) > 2 else "A0000061"))

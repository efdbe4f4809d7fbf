"""The real transports: `icp-mcp serve` over stdio (SDK stdio client) and streamable HTTP (SDK HTTP client)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.slow

_BIN = Path(sys.executable).parent / "icp-mcp"
ICP_MCP = [str(_BIN)] if _BIN.exists() else [shutil.which("icp-mcp") or "icp-mcp"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stdio_params(archive: Path) -> StdioServerParameters:
    return StdioServerParameters(command=ICP_MCP[0], args=[*ICP_MCP[1:], "serve", "--archive", str(archive),
                                                           "--transport", "stdio", "--read-only"],
                                 env={"PYTHONUNBUFFERED": "1"})


def wait_for_http(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    """Poll until the server answers (any HTTP status) or the process dies."""
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("HTTP server did not start")


@pytest.fixture(scope="module")
def http_server(icp_demo) -> Iterator[str]:
    """`icp-mcp serve --transport http` on a free loopback port, read-only over the shared demo archive."""
    port = free_port()
    proc = subprocess.Popen(
        [*ICP_MCP, "serve", "--archive", str(icp_demo.path), "--transport", "http", "--port", str(port),
         "--read-only"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def exercise(client: Client, account: str) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    assert {"score_account", "best_customers", "explain_disqualifier", "derive_icp", "activate_icp"} <= tools
    scored = await client.call_tool("score_account", {"account": account})
    assert not scored.is_error, scored.content
    assert scored.structured_content["score"]["account_id"] == account
    bad = await client.call_tool("best_customers", {"limit": 0})
    assert bad.is_error and "limit" in bad.content[0].text
    current = await client.read_resource("icp://current")
    assert current.contents[0].text.startswith("#")
    schema = await client.read_resource("archive://schema")
    assert "accounts" in schema.contents[0].text
    prompt = await client.get_prompt("qualify_account", {"account": account})
    assert account in prompt.messages[0].content.text


async def test_stdio_server_through_the_sdk_stdio_client(icp_demo):
    async with Client(stdio_params(icp_demo.path)) as client:
        assert client.server_info is None or client.server_info.name == "icp-mcp"
        await exercise(client, icp_demo.best_customer_ids[0])


async def test_http_server_through_the_sdk_http_client(http_server, icp_demo):
    async with Client(http_server) as client:
        await exercise(client, icp_demo.best_customer_ids[0])
        versions = json.loads((await client.read_resource("icp://versions")).contents[0].text)
        assert versions


def test_serve_rejects_an_unknown_transport(archive_path: Path):
    out = subprocess.run([*ICP_MCP, "serve", "--archive", str(archive_path), "--transport", "carrier-pigeon"],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 2
    assert "--transport" in out.stderr and "stdio, http" in out.stderr

"""The two SDK middlewares of the permission layer, on a tiny MCPServer through the in-memory client:
listings filtered by `allowed`, and money / PII redacted in every tool result."""

from __future__ import annotations

from pathlib import Path

from mcp import Client
from mcp.server import MCPServer
from pydantic import BaseModel
from sqlalchemy import insert

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import accounts, contacts
from icp_mcp.surface.access import ROLE_SCOPES, Principal, acting_as, filter_listings
from icp_mcp.server.redact import redaction_middleware


class Quote(BaseModel):
    account_id: str
    text: str


class Answer(BaseModel):
    account: str
    arr: float | None = None
    quotes: list[Quote]


def who(role: str) -> Principal:
    return Principal(subject=role, roles=[role], scopes=ROLE_SCOPES[role])


def make_server(archive_path: Path) -> MCPServer:
    engine = open_archive(archive_path)
    with engine.begin() as conn:
        conn.execute(insert(accounts).values(account_id="a1", name="Acme", territory="EMEA"))
        conn.execute(insert(contacts).values(contact_id="c1", account_id="a1", name="Priya Raman"))
    server = MCPServer("t")
    server.middleware.append(filter_listings)
    server.middleware.append(redaction_middleware(engine))

    @server.tool(name="best_customers")
    def best_customers() -> Answer:
        return Answer(account="Acme", arr=120_000.0, quotes=[Quote(
            account_id="a1", text="Priya Raman here: mail priya@acme.example or call +44 20 7946 0958")])

    @server.tool(name="feature_adoption")
    def feature_adoption() -> str:
        return "ok"

    @server.tool(name="secret_tool")
    def secret_tool() -> str:
        return "hidden"

    return server


async def test_tool_listing_follows_the_access_table(archive_path: Path) -> None:
    server = make_server(archive_path)
    with acting_as(who("marketing")):
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
    assert names == {"best_customers"}  # no usage:read, and unknown tools are admin-only
    with acting_as(who("admin")):
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
    assert names == {"best_customers", "feature_adoption", "secret_tool"}


async def test_results_are_redacted_for_the_caller(archive_path: Path) -> None:
    server = make_server(archive_path)
    with acting_as(who("marketing")):
        async with Client(server) as client:
            result = await client.call_tool("best_customers", {})
    data = result.structured_content
    assert data["arr"] is None and data["redacted"] == ["arr"]
    text = data["quotes"][0]["text"]
    assert "Priya" not in text and "Raman" not in text and "acme.example" not in text and "7946" not in text
    assert "120000" not in result.content[0].text and "Priya" not in result.content[0].text
    with acting_as(who("admin")):
        async with Client(server) as client:
            full = (await client.call_tool("best_customers", {})).structured_content
    assert full["arr"] == 120_000.0 and "Priya Raman" in full["quotes"][0]["text"]
    with acting_as(who("revops")):  # revenue yes, PII no
        async with Client(server) as client:
            revops = (await client.call_tool("best_customers", {})).structured_content
    assert revops["arr"] == 120_000.0 and "Priya" not in revops["quotes"][0]["text"]

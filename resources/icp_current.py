"""`icp://current` (markdown, for the model) and `icp://current.json` (the active ICPDefinition)."""

from __future__ import annotations

from mcp.server import MCPServer
from sqlalchemy import Engine

from icp_mcp.engine.sql import versions
from icp_mcp.engine.model.render import to_markdown
from icp_mcp.surface.resource_runner import pretty_json, read_resource
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.engine.sql.versions import active_icp

URI = "icp://current"
JSON_URI = "icp://current.json"


def current_markdown(engine: Engine) -> str:
    """The active ICP as markdown."""
    return to_markdown(active_icp(engine))


def current_json(engine: Engine) -> str:
    """The active ICP as JSON, with its version number."""
    record = versions.get_version(engine, None)
    return pretty_json(record)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add `icp://current` and `icp://current.json`."""

    @server.resource(URI, name="icp-current", title="Current ICP (markdown)", mime_type="text/markdown",
                     description="The active Ideal Customer Profile with the evidence behind every criterion.")
    async def icp_current() -> str:
        return await read_resource(archive, URI, current_markdown)

    @server.resource(JSON_URI, name="icp-current-json", title="Current ICP (JSON)", mime_type="application/json",
                     description="The active ICP version as JSON (ICPDefinition plus version metadata).")
    async def icp_current_json() -> str:
        return await read_resource(archive, JSON_URI, current_json)

"""`icp://versions` (every ICP version, newest first) and `icp://versions/{version}` (one version)."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from icp_mcp.engine.sql import versions
from icp_mcp.surface.resource_runner import pretty_json, read_resource
from icp_mcp.surface.archive_access import ArchiveHandle

URI = "icp://versions"
TEMPLATE = "icp://versions/{version}"


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add `icp://versions` and the `icp://versions/{version}` template."""

    @server.resource(URI, name="icp-versions", title="ICP versions", mime_type="application/json",
                     description="Every ICP version: number, status (draft/active/retired), author, date, note.")
    async def icp_versions() -> str:
        return await read_resource(archive, URI, lambda engine: pretty_json(versions.list_versions(engine)))

    @server.resource(TEMPLATE, name="icp-version", title="One ICP version", mime_type="application/json",
                     description="One ICP version with its full definition; {version} is a number.")
    async def icp_version(version: str) -> str:
        if not version.isdigit():
            raise ResourceNotFoundError(f"version: must be a version number, got {version!r} (see {URI})")
        uri = f"icp://versions/{version}"
        return await read_resource(archive, uri, lambda engine: pretty_json(versions.get_version(engine, int(version))))

"""`icp://personas`: the buying-committee roles and titles that win, with lift and what they talk about."""

from __future__ import annotations

from mcp.server import MCPServer
from sqlalchemy import Engine

from icp_mcp.engine.derivation import personas as personas_engine
from icp_mcp.surface.resource_runner import pretty_json, read_resource
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.engine.sql.versions import active_icp

URI = "icp://personas"


def personas_json(engine: Engine) -> str:
    """Personas of the active ICP as JSON."""
    return pretty_json(personas_engine.personas(engine, active_icp(engine)))


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add `icp://personas`."""

    @server.resource(URI, name="icp-personas", title="Buyer personas", mime_type="application/json",
                     description="Roles and titles on won vs lost deals, their lift and their topics.")
    async def icp_personas() -> str:
        return await read_resource(archive, URI, personas_json)

"""ServeSettings: everything `icp-mcp serve` needs (a pydantic model, kept apart from the plain constants in
`settings` so that the CLI's help does not import pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from icp_mcp.surface.settings import DEFAULT_HOST, DEFAULT_PORT, MCP_PATH, Transport


class ServeSettings(BaseModel):
    """Everything `icp-mcp serve` needs; built from CLI options (and usable from code)."""

    archive: str = Field(description="DuckDB file path or SQLAlchemy URL of the buyer archive")
    transport: Transport = "stdio"
    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    policy: str | None = Field(None, description="path of the access policy file (issue 6)")
    read_only: bool = Field(
        False,
        description="open the archive read-only: several processes may then serve one file, but "
        "derive_icp and activate_icp are refused",
    )

    @property
    def url(self) -> str:
        """The streamable HTTP endpoint a client connects to."""
        return f"http://{self.host}:{self.port}{MCP_PATH}"

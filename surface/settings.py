"""Server settings: where the archive is, how it is served, and the result caps every tool applies.

The caps follow DESIGN section 10 so that every tool, resource and test agrees on them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: Lists return this many items unless the caller asks for more.
DEFAULT_LIMIT = 20
#: No list ever returns more than this many items in one page.
MAX_LIMIT = 200
#: Text fields in results are cut at this many characters (and the result says `truncated: true`).
MAX_TEXT = 500
#: Seconds a read-only tool may run before it is abandoned with a timeout error.
QUERY_TIMEOUT_S = 10.0
#: Seconds a write tool (derivation) may run.
WRITE_TIMEOUT_S = 300.0

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MCP_PATH = "/mcp"
#: Help text of every CLI command's --archive option.
ARCHIVE_HELP = "A DuckDB file path, or any SQLAlchemy URL (postgresql+psycopg://...)."

Transport = Literal["stdio", "http"]


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

"""Server settings: where the archive is, how it is served, and the result caps every tool applies.

The caps follow DESIGN section 10 so that every tool, resource and test agrees on them.
"""

from __future__ import annotations

import os
from typing import Literal

#: Lists return this many items unless the caller asks for more.
DEFAULT_LIMIT = 20
#: No list ever returns more than this many items in one page.
MAX_LIMIT = 200
#: Text fields in results are cut at this many characters (and the result says `truncated: true`).
MAX_TEXT = 500
#: Seconds a read-only tool may run before it is abandoned with a timeout error.
QUERY_TIMEOUT_S = 10.0
#: Read tools running their engine work at once per process; the rest wait their turn (in the event loop,
#: inside their timeout). DuckDB runs each query on every core, so more at once only adds switching.
MAX_CONCURRENT_QUERIES = 8
#: DuckDB memory a serving process may use for its queries (DuckDB's own default is 80% of the machine's
#: RAM); larger operators spill to disk. `ICP_MCP_MEMORY_LIMIT` overrides it (DuckDB's syntax: "2GB").
#: Writes (state builds, derivation, ingest through the server) run under DuckDB's default.
MEMORY_LIMIT = "700MB"
#: Seconds a write tool (derivation) may run.
WRITE_TIMEOUT_S = 300.0

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MCP_PATH = "/mcp"
#: `icp-mcp ask`: the Claude model and the most model turns before giving up.
DEFAULT_MODEL = "claude-sonnet-4-5"
MAX_TURNS = 8
#: Help text of every CLI command's --archive option.
ARCHIVE_HELP = "A DuckDB file path, or any SQLAlchemy URL (postgresql+psycopg://...)."

Transport = Literal["stdio", "http"]


class MissingAPIKey(RuntimeError):
    """ANTHROPIC_API_KEY is not set."""


def require_api_key() -> str:
    """The API key from the environment (`icp-mcp ask`), or `MissingAPIKey` with a one-line explanation;
    here, not in the agent, so the CLI says so before importing the MCP SDK and the archive."""
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise MissingAPIKey("ANTHROPIC_API_KEY is not set: export your Anthropic API key to use `icp-mcp ask`")
    return key

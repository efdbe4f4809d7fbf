"""Build the icp-mcp MCP server: one archive handle, the tools, the resources, the prompts.

`build_server(archive)` is what `icp-mcp serve`, `icp-mcp call`, `icp-mcp ask` and the tests use, so every
transport (stdio, streamable HTTP, in-memory) serves exactly the same surface.
"""

from __future__ import annotations

import importlib
from typing import Any

from mcp.server import MCPServer

from icp_mcp.resources import completions, icp_current, personas, prompts, schema, versions
from icp_mcp.server import audit
from icp_mcp.surface import audit_hook
from icp_mcp.surface.access import filter_listings
from icp_mcp.server.instructions import INSTRUCTIONS
from icp_mcp.server.redact import redaction_middleware
from icp_mcp.surface.settings import MCP_PATH
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import tidy_validation_errors, warm_up

SERVER_NAME = "icp-mcp"

#: Tool modules under icp_mcp.tools; each exposes `register(server, archive)`.
TOOL_MODULES: tuple[str, ...] = (
    "score_account", "best_customers", "explain_disqualifier", "derive_icp", "activate_icp",
    "customer_voice", "feature_adoption", "check_drift",
)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("icp-mcp")
    except Exception:
        return "0"


def apply_policy(policy: str | None, *, base_url: str | None = None) -> dict[str, Any]:
    """Load the policy file (issue 6): set the stdio/CLI caller and the audit JSONL, and return the
    MCPServer keyword arguments (token verifier and auth settings) that HTTP needs when `base_url` is given.

    Without a policy the local caller is the archive owner (`server.access.LOCAL_OWNER`).
    """
    if policy is None:
        return {}
    from icp_mcp.surface.access import set_default_principal
    from icp_mcp.server.auth import http_auth
    from icp_mcp.server.policy import load_policy

    loaded = load_policy(policy)
    set_default_principal(loaded.local_principal())
    audit.set_default_jsonl(loaded.audit_path())
    if base_url is None:
        return {}
    verifier, settings = http_auth(loaded, base_url, mcp_path=MCP_PATH)
    return {"token_verifier": verifier, "auth": settings}


def http_app(server: MCPServer, host: str) -> Any:
    """The streamable HTTP ASGI app `serve` runs: the SDK's app, and with a policy an answer that says
    "expired" for genuine tokens past their expiry (server/auth.py `explain_expired`)."""
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    verifier = getattr(server, "_icp_verifier", None)
    if verifier is None:
        return app
    from mcp.server.auth.routes import build_resource_metadata_url

    from icp_mcp.server.auth import explain_expired

    metadata = str(build_resource_metadata_url(server.settings.auth.resource_server_url)) if server.settings.auth else None
    return explain_expired(app, verifier, metadata)


def register_tools(server: MCPServer, archive: ArchiveHandle) -> list[str]:
    """Import each tool module and let it register itself; return the names registered."""
    for name in TOOL_MODULES:
        importlib.import_module(f"icp_mcp.tools.{name}").register(server, archive)
    return list(TOOL_MODULES)


def build_server(
    archive: str,
    *,
    policy: str | None = None,
    read_only: bool = False,
    handle: ArchiveHandle | None = None,
    base_url: str | None = None,
    log_level: str = "WARNING",
    warm: bool = False,
) -> MCPServer:
    """An MCPServer over the archive at `archive` (path or URL).

    `read_only` opens the DuckDB file read-only (several processes may share it; writes are refused).
    `handle` reuses an already open archive (tests, the CLI). `warm` opens the archive and reads the active
    ICP in the background at once (`serve` asks for it). With a `policy`, HTTP servers (`base_url`
    given, e.g. http://127.0.0.1:8765) check bearer tokens; stdio and in-memory callers act as the
    policy's local entry.
    """
    audit_hook.install(audit.record, audit.flush, audit.prepare)  # tools and resources hand their audit entries here
    auth_kwargs = apply_policy(policy, base_url=base_url)
    handle = handle or ArchiveHandle(archive, read_only=read_only)
    if warm:  # `serve`: first connection, active ICP, stored-state header, read in the background while the
        warm_up(handle)  # tools register (~0.8 s); not in-process callers: the held connection keeps the file open
    server = MCPServer(
        SERVER_NAME,
        title="icp-mcp — Ideal Customer Profile over your buyer archive",
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level=log_level,  # type: ignore[arg-type]
        **auth_kwargs,
    )
    # Permissions (issue 6): list only what the caller may use; redact money / PII in every tool result.
    server.middleware.append(filter_listings)
    server.middleware.append(redaction_middleware(handle.reader))
    server.middleware.append(tidy_validation_errors)  # "limit: Input should be ≤ 200 (got 500)"
    register_tools(server, handle)
    for module in (icp_current, personas, versions, schema):
        module.register(server, handle)
    prompts.register(server)
    completions.register(server, handle)  # completion/complete for prompt arguments and template variables
    server.archive = handle  # type: ignore[attr-defined]  # for the CLI and tests (close, read_only)
    server._icp_verifier = auth_kwargs.get("token_verifier")  # type: ignore[attr-defined]  # for http_app
    return server


def archive_of(server: MCPServer) -> ArchiveHandle:
    """The archive handle a server built by `build_server` holds."""
    return server.archive  # type: ignore[attr-defined,no-any-return]

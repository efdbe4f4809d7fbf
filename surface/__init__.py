"""The shared MCP layer below tools and resources: what every tool and resource call goes through.

`runner` (the tool runner: caller → `allowed()` → engine in a worker thread → caps → audit), `resource_runner`
(the same for resources), `archive_access` (ArchiveHandle: the one engine a process holds, reader guard,
single writer), `access` (Principal, scopes, `allowed()`), `settings` (limits and defaults), `audit_hook`
(where calls hand their audit entry; the server installs the recorder) and `arguments` (argument types
shared by several tools).

Rule: imports `icp_mcp.engine` and `icp_mcp.archive`, never `icp_mcp.server`, `icp_mcp.tools` or
`icp_mcp.resources` (checked by import-linter).
"""

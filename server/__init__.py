"""MCP server wiring, transports, auth, policy, audit, settings and the CLI."""

__version__ = "0.1.0"

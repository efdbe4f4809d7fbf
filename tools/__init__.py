"""MCP tools: one module per tool, each a thin adapter over the engine."""

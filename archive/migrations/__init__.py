"""Alembic migrations of the archive schema (run by `archive.versions`; `icp-mcp migrate`)."""

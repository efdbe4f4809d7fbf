"""Alembic environment: always run on the connection `archive.versions` hands over (never from a URL).

The caller owns the transaction, so a migration either completes with the version stamp or leaves the
archive as it was.
"""

from __future__ import annotations

from alembic import context

if context.config.attributes["connection"].dialect.name == "duckdb":
    import duckdb_sqlalchemy.alembic_impl  # noqa: F401  (registers Alembic's DuckDB implementation)

from icp_mcp.archive.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
context.run_migrations()

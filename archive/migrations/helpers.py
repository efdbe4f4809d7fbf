"""Helpers for revisions: create tables exactly as `archive.schema` declares them (DuckDB without FOREIGN
KEY constraints, as `create_schema` does), so a revision that adds tables is one line per table:

    from icp_mcp.archive.migrations.helpers import create_tables

    def upgrade() -> None:
        create_tables("archive_generation", "icp_state")
"""

from __future__ import annotations

from alembic import op

from icp_mcp.archive.schema import metadata


def create_tables(*names: str) -> None:
    """Create the named tables (and their indexes) of the current schema when they are missing."""
    bind = op.get_bind()
    for name in names:
        if name in metadata.tables:  # a table a later revision replaced (e.g. icp_best_values) is skipped
            metadata.tables[name].create(bind, checkfirst=True)

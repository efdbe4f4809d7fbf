"""Search tables for customer_voice on DuckDB (`voice_snippets`, `voice_postings`, in the FTS index's schema,
see archive/fts.py): derived from the snippets and the full-text index, built here when the index exists
(about 90 s at 7.6M snippets) and rebuilt with the index from then on. Without them voice answers the same,
slower. PostgreSQL: nothing to do.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

from icp_mcp.archive.fts import build_search_tables, has_fts_index

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "duckdb" and has_fts_index(bind):
        build_search_tables(bind)

"""Stored candidates for similar-customer search (`icp_similar_candidates`): of each group of best customers
alike in every value the search compares and in territory, the few with the lowest account ids, so that
score_account's search scans a few thousand rows instead of every best customer (114k at 1M accounts). The
header says what the groups are (`icp_state.similar_key`). A derived table: created empty, and the stored
state is kept; without candidates (key NULL) the search scans the best profiles as before, until the next
state build fills them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())  # one inspector: the tables, then icp_state's columns
    if "icp_state" in inspector.get_table_names():
        columns = {c["name"] for c in inspector.get_columns("icp_state")}
        if "similar_key" not in columns:
            op.add_column("icp_state", sa.Column("similar_key", sa.String))
    create_tables("icp_similar_candidates")

"""Stored ICP state for feature_adoption: each feature's per-group sums for the default window ending on the
state's day (`icp_adoption_facts`), so that the first "adoption of X by segment" of a fresh process reads a
few rows instead of grouping a year of usage rows and every customer. A derived table: created empty, and the
state header is forgotten so that the next state build (`icp-mcp icp refresh`, activation, ingest, or a
writable server's first call) fills it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "icp_state" in present:  # the state headers name a state that lacks its adoption facts: rebuild it
        op.execute("DELETE FROM icp_state")
    create_tables("icp_adoption_facts")

"""Stored ICP state for check_drift: closed deals per day by ICP group, by attribute value, and each account's
first deal in a window (`icp_drift_facts`), so that a drift check sums a few thousand rows instead of counting
every deal of the windows per account. A derived table: created empty, and the state header is forgotten so
that the next state build (`icp-mcp icp refresh`, activation, ingest, or a writable server's first call) fills it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "icp_state" in present:  # the state headers name a state that lacks its drift facts: rebuild it
        op.execute("DELETE FROM icp_state")
    create_tables("icp_drift_facts")


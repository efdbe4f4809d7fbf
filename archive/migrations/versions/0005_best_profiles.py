"""Stored ICP state for first calls: similar-customer search reads one row per best customer
(`icp_best_profiles`) instead of one row per attribute value (`icp_best_values`), and explain_disqualifier
reads each rule's exceptions and recent deals (`icp_rule_state`). All are derived tables: the old one is
dropped, the new ones created empty, and the next state build (`icp-mcp icp refresh`, activation, ingest,
or a writable server's first call) fills them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "icp_best_values" in present:
        op.drop_table("icp_best_values")
    if "icp_state" in present:  # the state headers name a state that now lacks its profiles: rebuild it
        op.execute("DELETE FROM icp_state")
    create_tables("icp_best_profiles", "icp_rule_state")

"""Stored ICP state that answers without joins at 1M accounts: each stored customer carries its name, industry
and territory (best_customers' page and shares no longer join the accounts table), each best profile the ICP's
technologies as bits (similar-customer search compares integers, not substrings; the header names the bits).
All are derived: the changed tables are dropped and created in their new shape, empty, and the next state
build (`icp-mcp icp refresh`, activation, ingest, or a writable server's first call) fills them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Derived tables whose shape changed: dropped, then created as the schema declares them.
RESHAPED = ("icp_state", "icp_customer_state", "icp_best_profiles")


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name in RESHAPED:
        if name in present:
            op.drop_table(name)
    create_tables(*RESHAPED)

"""The archive generation and the stored ICP state (engine/scoring/state.py): what answers depend on is
stamped with a generation every write bumps, and the active version's scores and customer ranks are kept
in the archive so a fresh process answers from them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


#: Derived tables: nothing in them that `icp-mcp icp refresh` cannot rebuild.
DERIVED = ("icp_best_values", "icp_customer_state", "icp_account_state", "icp_state")


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name in DERIVED:  # a pre-release shape of the derived state is dropped, not patched: it is rebuilt
        if name in present:
            op.drop_table(name)
    create_tables("archive_generation", *reversed(DERIVED))

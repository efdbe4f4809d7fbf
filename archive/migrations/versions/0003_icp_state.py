"""The archive generation and the stored ICP state (engine/scoring/state.py): what answers depend on is
stamped with a generation every write bumps, and the active version's scores and customer ranks are kept
in the archive so a fresh process answers from them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables("archive_generation", "icp_state", "icp_account_state", "icp_customer_state", "icp_best_values")

"""Index audit_log by subject (`icp-mcp audit tail --subject`, per-caller reviews).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])

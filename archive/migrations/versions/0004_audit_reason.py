"""audit_log.reason: why a call was refused (outcome `denied`), e.g. "account outside the caller's
territories (EMEA)".

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_log")}
    if "reason" not in columns:
        op.add_column("audit_log", sa.Column("reason", sa.String(), nullable=True))

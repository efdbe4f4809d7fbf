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
    inspector = sa.inspect(op.get_bind())
    if "reason" in {c["name"] for c in inspector.get_columns("audit_log")}:
        return
    # DuckDB cannot ALTER a table that an index depends on: drop audit_log's indexes first;
    # schema_version.migrate re-creates them after this transaction (`_restore_indexes`).
    for index in inspector.get_indexes("audit_log"):
        if index.get("name"):
            op.drop_index(index["name"], table_name="audit_log")
    op.add_column("audit_log", sa.Column("reason", sa.String(), nullable=True))

"""Persona counts kept per day with the stored state (`icp_persona_facts`): closed deals per buying role and
raw title by closed day and outcome, snippets per role and title by day and topics, so that a derivation of
the current generation sums a few hundred thousand small rows instead of joining millions of deal contacts
and snippets. The header says whether a state holds them (`icp_state.persona_facts`). A derived table:
created empty, and the stored state is kept; without the facts (NULL) a derivation counts from the deals and
snippets as before, and a writer rebuilds the state.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from icp_mcp.archive.migrations.helpers import create_tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "icp_state" in inspector.get_table_names():
        columns = {c["name"] for c in inspector.get_columns("icp_state")}
        if "persona_facts" not in columns:
            op.add_column("icp_state", sa.Column("persona_facts", sa.Integer))
    create_tables("icp_persona_facts")

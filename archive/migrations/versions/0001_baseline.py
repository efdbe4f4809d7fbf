"""Baseline: the schema of icp-mcp 0.1.0, as `archive.schema` declared it before schema versions existed.

An archive without a version table that has these tables is stamped with this revision and then
upgraded. Nothing to create here: archives of this revision were made by `create_schema` or the demo.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The tables of the baseline schema (an unversioned archive must have all of them to count as baseline).
BASELINE_TABLES = (
    "accounts", "account_technologies", "opportunities", "arr_snapshots", "contacts", "opportunity_contacts",
    "conversations", "conversation_snippets", "feature_usage", "signals", "icp_versions", "audit_log",
    "ingest_rejects",
)


def upgrade() -> None:
    pass

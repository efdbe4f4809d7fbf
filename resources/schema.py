"""`archive://schema`: the data dictionary of the buyer archive (tables, columns, types, descriptions).

Built from `archive.schema.metadata`, so it can never disagree with the real tables; descriptions are kept
here, next to the resource that shows them. Row counts come from the live archive.
"""

from __future__ import annotations

from mcp.server import MCPServer
from sqlalchemy import Engine, func, select

from icp_mcp.archive.schema import metadata
from icp_mcp.surface.resource_runner import read_resource
from icp_mcp.surface.archive_access import ArchiveHandle

URI = "archive://schema"

TABLES: dict[str, str] = {
    "accounts": "one row per company (customer, prospect or lost deal); firmographics",
    "account_technologies": "one row per technology in an account's stack",
    "opportunities": "deals: created, closed, stage (open/won/lost), amount, lost reason",
    "arr_snapshots": "monthly ARR per account; 0 means churned",
    "contacts": "people at accounts (PII: name, email, phone)",
    "opportunity_contacts": "who was on each deal, in which buying role",
    "conversations": "calls, meetings, emails, tickets, notes, surveys",
    "conversation_snippets": "conversation text split into snippets, topic-tagged and full-text indexed",
    "feature_usage": "daily product usage per account and feature",
    "signals": "external events: funding, exec hires, hiring spikes, tech installs, layoffs, acquisitions",
    "icp_versions": "every ICP definition derived or written, with status draft/active/retired",
    "audit_log": "every MCP call: who, what, outcome, duration",
    "ingest_rejects": "rows that failed validation at ingest, with line and reason",
    "archive_generation": "one row: the archive generation, bumped by every changing ingest and ICP activation",
    "icp_state": "stored ICP state: for which version, definition digest, generation and day it was built",
    "icp_account_state": "stored ICP state: each account's points, fit, tier, win probability, segments",
    "icp_customer_state": "stored ICP state: each customer's value components, value score and rank",
    "icp_best_profiles": "stored ICP state: each best customer's compared values (similar-customer search)",
    "icp_similar_candidates": "stored ICP state: the few best customers of each group alike in the compared values",
    "icp_rule_state": "stored ICP state: each disqualifier's exceptions and recent deal counts (explain_disqualifier)",
}

COLUMNS: dict[str, str] = {
    "account_id": "account key", "name": "name", "domain": "web domain (unique when present)",
    "industry": "industry", "country": "country", "region": "region", "employees": "head count",
    "annual_revenue": "company annual revenue", "founded_year": "year founded",
    "funding_stage": "funding stage", "business_model": "B2B, B2C, …", "territory": "sales territory",
    "owner": "account owner (rep)", "created_at": "when the row was created",
    "attributes": "extra firmographics (JSON); usable as attributes.<key>", "technology": "technology name",
    "opportunity_id": "deal key", "closed_at": "close date", "stage": "open / won / lost",
    "amount": "deal amount", "lost_reason": "why a lost deal was lost", "source": "lead source",
    "product": "product sold", "month": "first day of the month", "arr": "annual recurring revenue",
    "contact_id": "contact key", "email": "email (PII)", "phone": "phone (PII)", "title": "job title",
    "department": "department", "seniority": "seniority", "role": "buying role on the deal",
    "conversation_id": "conversation key", "occurred_at": "when it happened", "channel": "call, meeting, …",
    "body": "full text", "snippet_id": "snippet key (cite it)", "seq": "order within the conversation",
    "speaker": "customer / vendor", "text": "snippet text", "topics": "tagged topics (,a,b,)",
    "feature": "feature name", "day": "usage day", "events": "events that day",
    "active_users": "distinct users that day", "signal_id": "signal key", "kind": "signal kind",
    "detail": "signal detail", "version": "ICP version number", "created_by": "who created it",
    "status": "draft / active / retired", "definition": "the ICPDefinition (JSON)",
    "evidence": "evidence behind it (JSON)", "note": "free note", "id": "row key", "at": "when",
    "subject": "caller", "tool": "tool or resource", "arguments": "redacted arguments",
    "outcome": "ok / error / denied / refused / timeout", "rows": "rows returned",
    "duration_ms": "duration in milliseconds", "table_name": "target table", "line": "source line",
    "raw": "the raw row", "reason": "why it was rejected",
    "generation": "archive generation", "archive_id": "random id of this archive", "bumped_at": "when bumped",
    "digest": "fingerprint of the ICP definition", "weights_digest": "fingerprint of the value weights",
    "as_of": "day the state is valid for", "built_at": "when built", "accounts": "accounts stored",
    "customers": "customers stored",
    "seconds": "build time", "points": "ICP points", "disqualified": "1 when a disqualifier hits",
    "fit_score": "fit 0-100", "tier": "A-D", "win_probability": "calibrated win probability",
    "disqualifier": "id of the first disqualifier hit", "segments": "ICP segments (,s1,s2,)",
    "first_won_at": "first won deal", "lifetime_revenue": "lifetime revenue", "nrr": "net revenue retention",
    "retained": "1 retained, 0 churned", "time_to_value_days": "days to first usage",
    "tickets_per_month": "support tickets per month", "value_score": "value score 0-1", "rank": "value rank",
    "revenue_before": "revenue of higher-ranked customers", "revenue_total": "revenue of all customers",
    "in_best": "1 in the best-customer cohort", "attribute": "attribute name", "value": "attribute value",
}


def render_schema(engine: Engine) -> str:
    """Markdown data dictionary with row counts."""
    lines = ["# Buyer archive data dictionary", ""]
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            try:
                count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            except Exception:
                count = None
                conn.rollback()  # PostgreSQL refuses every later statement of a failed transaction
            shown = f"{count} rows" if count is not None else "missing"
            lines += [f"## {table.name} ({shown})", "", TABLES.get(table.name, ""), "",
                      "| column | type | key | description |", "|---|---|---|---|"]
            for col in table.columns:
                key = "PK" if col.primary_key else ("FK" if col.foreign_keys else "")
                lines.append(f"| {col.name} | {col.type} | {key} | {COLUMNS.get(col.name, '')} |")
            lines.append("")
    return "\n".join(lines)


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add `archive://schema`."""

    @server.resource(URI, name="archive-schema", title="Archive data dictionary", mime_type="text/markdown",
                     description="Tables, columns, types, descriptions and row counts of the buyer archive.")
    async def archive_schema() -> str:
        return await read_resource(archive, URI, render_schema)

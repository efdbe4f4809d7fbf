"""Names the CLI shows in its help (ingestible tables, CRM mappings), free of imports so help stays fast."""

#: Tables a user may ingest into, in dependency order (parents first).
INGESTIBLE_TABLES: tuple[str, ...] = (
    "accounts",
    "account_technologies",
    "opportunities",
    "arr_snapshots",
    "contacts",
    "opportunity_contacts",
    "conversations",
    "feature_usage",
    "signals",
)

#: Column mappings `icp-mcp ingest --mapping` knows (archive/mappings.py).
MAPPINGS: tuple[str, ...] = ("generic", "salesforce", "hubspot")

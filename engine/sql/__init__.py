"""sql: SQL building blocks over the archive (SQLAlchemy Core). The attribute relation (`attributes`),
condition matching (`matching`), deal labels (`labels`), triggers, the batch points query (`points`), the
customer value query (`value_sql`), account lookup (`lookup`), the one engine cache (`cache`), ICP
version storage (`versions`), and the facts kept with the stored state (`drift_facts`, `rule_facts`,
`adoption_sql`, `persona_sql`).

Rule: imports `model` and `icp_mcp.archive` only.
"""

__all__ = ["attributes", "cache", "labels", "lookup", "matching", "persona_sql", "points", "triggers", "value_sql",
           "versions"]

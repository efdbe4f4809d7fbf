"""sql: SQL building blocks over the archive (SQLAlchemy Core). The attribute relation (`attributes`),
condition matching (`matching`), deal labels (`labels`), triggers, the batch points query (`points`), the
customer value query (`value_sql`), account lookup (`lookup`), the one engine cache (`cache`) and ICP
version storage (`versions`).

Rule: imports `model` and `icp_mcp.archive` only.
"""

__all__ = ["attributes", "cache", "labels", "lookup", "matching", "points", "triggers", "value_sql", "versions"]

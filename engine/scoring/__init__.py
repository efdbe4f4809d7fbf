"""scoring: one account or prospect scored in Python (`one.score_account`), every account in one SQL
statement (`batch`), tier cut-offs and calibration (`tiers`), and the result models (`results`).

Rule: imports `sql`, `model` and `icp_mcp.archive` only.
"""

__all__ = ["batch", "one", "results", "tiers"]

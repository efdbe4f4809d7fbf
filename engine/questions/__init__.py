"""questions: the answers the tools ask for. Best customers by value (`value`), disqualifier explanations
(`disqualifiers`), cohorts (`cohorts`), customer voice (`voice`, `tone`), feature adoption (`adoption`) and
drift (`drift`).

Rule: imports `scoring`, `sql`, `model` and `icp_mcp.archive`; never `derivation`.
"""

__all__ = ["adoption", "cohorts", "disqualifiers", "drift", "tone", "value", "voice"]

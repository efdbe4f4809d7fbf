"""derivation: making an ICP from the archive. `derive.derive_icp` (criteria, disqualifiers, triggers),
`segments` (the pair search), `personas`, and `backtest` (a time-split check of a derived ICP).

Rule: imports `scoring`, `sql`, `model` and `icp_mcp.archive`; never `questions`.
"""

__all__ = ["backtest", "binning", "counts", "derive", "personas", "segments"]

"""Facts about a built archive for `icp-mcp demo summary`: row counts, win rate, ARR, date ranges."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from icp_mcp.archive.db import open_archive
from icp_mcp.archive.schema import metadata
from sqlalchemy import text


@dataclass
class ArchiveSummary:
    counts: dict[str, int] = field(default_factory=dict)
    closed_deals: int = 0
    won_deals: int = 0
    open_deals: int = 0
    current_arr: float = 0.0
    customers: int = 0
    retained_customers: int = 0
    ranges: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def win_rate(self) -> float | None:
        return self.won_deals / self.closed_deals if self.closed_deals else None


def summarize(archive: str | os.PathLike[str]) -> ArchiveSummary:
    """Read the headline numbers of an archive (opened read-only)."""
    engine = open_archive(archive, read_only=True)
    out = ArchiveSummary()
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                out.counts[table.name] = int(conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one())
            won, closed, still_open = conn.execute(text(
                "SELECT sum(CASE WHEN stage = 'won' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN stage IN ('won', 'lost') THEN 1 ELSE 0 END), "
                "sum(CASE WHEN stage = 'open' THEN 1 ELSE 0 END) FROM opportunities")).one()
            out.won_deals, out.closed_deals, out.open_deals = int(won or 0), int(closed or 0), int(still_open or 0)
            arr, customers, retained = conn.execute(text(
                "WITH latest AS (SELECT account_id, arr, row_number() OVER "
                "(PARTITION BY account_id ORDER BY month DESC) AS r FROM arr_snapshots) "
                "SELECT sum(arr), count(*), sum(CASE WHEN arr > 0 THEN 1 ELSE 0 END) FROM latest WHERE r = 1")).one()
            out.current_arr, out.customers, out.retained_customers = float(arr or 0), int(customers), int(retained or 0)
            for label, table, column in (
                ("opportunities created", "opportunities", "created_at"),
                ("opportunities closed", "opportunities", "closed_at"),
                ("conversations", "conversations", "occurred_at"),
                ("feature usage", "feature_usage", "day"),
                ("ARR months", "arr_snapshots", "month"),
            ):
                out.ranges[label] = tuple(conn.execute(text(f"SELECT min({column}), max({column}) FROM {table}")).one())
    finally:
        engine.dispose()
    return out

"""The one clock: the archive's "now" and "today", in UTC.

The archive stores naive timestamps meaning UTC (ingest converts zoned values to UTC), and its business
date is the UTC date: tool windows, `as_of` defaults, trigger windows, scoring, value metrics, version and
audit stamps and the demo generator all read the time here, never `datetime.now()` / `date.today()`
(which give the machine's local time). Lives in archive/, the lowest layer, so that everything may use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc_now() -> datetime:
    """Now as a naive UTC datetime, the form the archive stores timestamps in."""
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """The archive's business date: today in UTC."""
    return datetime.now(UTC).date()

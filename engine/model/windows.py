"""Time windows for tool arguments: `since` / `until` as ISO dates or relative forms.

Relative forms are computed from `as_of` (a date; default today in UTC, DESIGN section 10), so that a
test or a demo archive can pin "today". A window is half-open: `start <= t < end`, with both ends dates,
so it compares the same way against DATE columns (`closed_at`) and TIMESTAMP columns (`occurred_at`).

Forms accepted for `since`:
  * `YYYY-MM-DD`                   – from that day on
  * `Nd` / `Nw`                    – the last N days / weeks, today included
  * `last_month` / `last_quarter` / `last_year` – the previous calendar period (until defaults to its end)
  * `this_month` / `this_quarter` / `this_year` – the current calendar period so far
Forms accepted for `until` (inclusive day): `YYYY-MM-DD`, `today`, `Nd` / `Nw` (that many days / weeks
ago), and the period names above (meaning the last day of that period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_

from icp_mcp.archive.clock import today
from icp_mcp.engine.model.errors import EngineError

PERIODS: tuple[str, ...] = (
    "last_month", "last_quarter", "last_year", "this_month", "this_quarter", "this_year",
)
SINCE_FORMS: tuple[str, ...] = ("YYYY-MM-DD", "Nd (e.g. 30d)", "Nw (e.g. 12w)", *PERIODS)
UNTIL_FORMS: tuple[str, ...] = ("YYYY-MM-DD", "today", "Nd (e.g. 7d = a week ago)", "Nw", *PERIODS)
AS_OF_FORMS: tuple[str, ...] = ("YYYY-MM-DD",)

_RELATIVE = re.compile(r"^\s*(\d{1,5})\s*([dw])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """A half-open window of days `[start, end)`; `start` None means from the beginning of the archive."""

    start: date | None
    end: date
    as_of: date

    @property
    def start_at(self) -> datetime | None:
        """`start` as a midnight timestamp (for TIMESTAMP columns)."""
        return None if self.start is None else datetime.combine(self.start, time.min)

    @property
    def end_at(self) -> datetime:
        """`end` as a midnight timestamp (exclusive)."""
        return datetime.combine(self.end, time.min)

    @property
    def last_day(self) -> date:
        """The last day inside the window (inclusive end, for display)."""
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int | None:
        """Length in days, None when open-ended."""
        return None if self.start is None else (self.end - self.start).days

    def contains(self, col: ColumnElement, *, timestamps: bool = False) -> ColumnElement[bool]:
        """SQL: `col` lies in the window (`start <= col < end`); `timestamps` compares against the midnight
        timestamps `start_at` / `end_at` (TIMESTAMP columns) instead of the dates."""
        start, end = (self.start_at, self.end_at) if timestamps else (self.start, self.end)
        return col < end if start is None else and_(col < end, col >= start)

    def describe(self) -> str:
        """'2026-10-01..2026-10-31' (or 'up to 2026-10-31' when open-ended)."""
        if self.start is None:
            return f"up to {self.last_day.isoformat()}"
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"


def parse_as_of(value: str | date | datetime | None, field: str = "as_of") -> date:
    """The reference day: a date / datetime / ISO string, or today (UTC) when None."""
    if value is None or value == "":
        return today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = _iso(value)
    if parsed is None:
        raise EngineError(field, f"{value!r} is not a date", list(AS_OF_FORMS))
    return parsed


def _iso(value: str) -> date | None:
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def period_bounds(name: str, as_of: date) -> tuple[date, date]:
    """The half-open bounds `[start, end)` of a named calendar period relative to `as_of`."""
    month = date(as_of.year, as_of.month, 1)
    quarter = _quarter_start(as_of)
    year = date(as_of.year, 1, 1)
    bounds = {
        "this_month": (month, _add_months(month, 1)),
        "last_month": (_add_months(month, -1), month),
        "this_quarter": (quarter, _add_months(quarter, 3)),
        "last_quarter": (_add_months(quarter, -3), quarter),
        "this_year": (year, date(as_of.year + 1, 1, 1)),
        "last_year": (date(as_of.year - 1, 1, 1), year),
    }
    return bounds[name]


def _relative_days(value: str) -> int | None:
    match = _RELATIVE.match(value)
    if not match:
        return None
    n = int(match.group(1))
    return n * 7 if match.group(2).lower() == "w" else n


def parse_since(value: str, as_of: date, field: str = "since") -> tuple[date, date | None]:
    """Start day of the window and, for a named period, its natural end (exclusive)."""
    text = value.strip().lower()
    if text in PERIODS:
        return period_bounds(text, as_of)
    days = _relative_days(text)
    if days is not None:
        if days < 1:
            raise EngineError(field, f"{value!r}: a relative window needs at least 1 day", list(SINCE_FORMS))
        return as_of - timedelta(days=days - 1), None
    parsed = _iso(text)
    if parsed is None:
        raise EngineError(field, f"{value!r} is not a date or a relative window", list(SINCE_FORMS))
    return parsed, None


def parse_until(value: str, as_of: date, field: str = "until") -> date:
    """Exclusive end day for an `until` argument (the named day itself is inside the window)."""
    text = value.strip().lower()
    if text == "today":
        return as_of + timedelta(days=1)
    if text in PERIODS:
        return period_bounds(text, as_of)[1]
    days = _relative_days(text)
    if days is not None:
        return as_of - timedelta(days=days) + timedelta(days=1)
    parsed = _iso(text)
    if parsed is None:
        raise EngineError(field, f"{value!r} is not a date or a relative end", list(UNTIL_FORMS))
    return parsed + timedelta(days=1)


def resolve_window(
    since: str | None = None,
    until: str | None = None,
    as_of: str | date | datetime | None = None,
    *,
    default_days: int | None = None,
    fields: tuple[str, str] = ("since", "until"),
) -> Window:
    """Turn `since` / `until` / `as_of` arguments into a `Window`.

    Without `since`, the window starts `default_days` before `as_of` (or is open-ended when None).
    Without `until`, it ends after `as_of` — or at the end of the named period given as `since`.
    `fields` names the two arguments in errors (a tool may call its `since` "window").
    """
    ref = parse_as_of(as_of)
    start: date | None = None
    natural_end: date | None = None
    if since:
        start, natural_end = parse_since(since, ref, fields[0])
    elif default_days is not None:
        start = ref - timedelta(days=default_days - 1)
    end = parse_until(until, ref, fields[1]) if until else (natural_end or ref + timedelta(days=1))
    end = min(end, ref + timedelta(days=1)) if not until else end
    if start is not None and start >= end:
        raise EngineError(
            fields[1] if until else fields[0],
            f"the window is empty: since {start.isoformat()} is after until {(end - timedelta(days=1))}",
            list(UNTIL_FORMS if until else SINCE_FORMS),
        )
    return Window(start=start, end=end, as_of=ref)


def window_before(window: Window, days: int) -> Window:
    """The `days`-long window that ends where `window` starts (a baseline for comparisons)."""
    if window.start is None:
        raise ValueError("an open-ended window has no window before it")
    return Window(start=window.start - timedelta(days=days), end=window.start, as_of=window.as_of)

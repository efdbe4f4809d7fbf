"""`since` / `until` parsing: ISO dates and relative forms, computed from `as_of`."""

from __future__ import annotations

from datetime import date

import pytest

from icp_mcp.engine.model.errors import EngineError
from icp_mcp.engine.model.windows import period_bounds, resolve_window, window_before

AS_OF = date(2026, 11, 22)


def test_last_month_is_the_previous_calendar_month() -> None:
    w = resolve_window("last_month", as_of=AS_OF)
    assert (w.start, w.end) == (date(2026, 10, 1), date(2026, 11, 1))
    assert w.describe() == "2026-10-01..2026-10-31"


def test_last_month_in_january_wraps_the_year() -> None:
    w = resolve_window("last_month", as_of=date(2027, 1, 5))
    assert (w.start, w.end) == (date(2026, 12, 1), date(2027, 1, 1))


def test_last_quarter_and_this_quarter() -> None:
    w = resolve_window("last_quarter", as_of=AS_OF)
    assert (w.start, w.end) == (date(2026, 7, 1), date(2026, 10, 1))
    w = resolve_window("this_quarter", as_of=AS_OF)
    assert (w.start, w.end) == (date(2026, 10, 1), date(2026, 11, 23))  # capped at as_of
    assert period_bounds("last_year", AS_OF) == (date(2025, 1, 1), date(2026, 1, 1))


def test_relative_days_include_today() -> None:
    w = resolve_window("30d", as_of=AS_OF)
    assert w.days == 30 and w.last_day == AS_OF
    assert resolve_window("2w", as_of=AS_OF).days == 14


def test_iso_since_and_until_are_inclusive_days() -> None:
    w = resolve_window("2026-01-01", "2026-03-31", as_of=AS_OF)
    assert (w.start, w.end) == (date(2026, 1, 1), date(2026, 4, 1))
    assert w.start_at is not None and w.start_at.hour == 0


def test_default_days_and_open_window() -> None:
    assert resolve_window(as_of=AS_OF, default_days=90).days == 90
    w = resolve_window(as_of=AS_OF)
    assert w.start is None and w.end == date(2026, 11, 23) and w.describe() == "up to 2026-11-22"


def test_as_of_accepts_iso_strings_and_defaults_to_today() -> None:
    assert resolve_window("7d", as_of="2026-11-22").as_of == AS_OF
    assert resolve_window("7d").as_of is not None


def test_relative_until() -> None:
    w = resolve_window("90d", "30d", as_of=AS_OF)
    assert w.last_day == date(2026, 10, 23)
    assert resolve_window("60d", "last_month", as_of=AS_OF).end == date(2026, 11, 1)


def test_window_before() -> None:
    w = resolve_window("30d", as_of=AS_OF)
    before = window_before(w, 90)
    assert before.end == w.start and before.days == 90


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [("yesterdayish", None, "since"), ("0d", None, "since"), ("2026-13-01", None, "since"),
     ("30d", "soon", "until"), ("2026-06-01", "2026-05-01", "until")],
)
def test_bad_values_name_the_field_and_the_allowed_forms(since: str, until: str | None, field: str) -> None:
    with pytest.raises(EngineError) as info:
        resolve_window(since, until, as_of=AS_OF)
    assert info.value.field == field
    assert any("last_month" in form for form in info.value.allowed)


def test_bad_as_of() -> None:
    with pytest.raises(EngineError) as info:
        resolve_window("30d", as_of="next tuesday")
    assert info.value.field == "as_of"


def test_error_field_names_can_be_renamed() -> None:
    with pytest.raises(EngineError) as info:
        resolve_window("soon", as_of=AS_OF, fields=("window", "until"))
    assert info.value.field == "window"

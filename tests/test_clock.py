"""The one clock is UTC whatever the machine's time zone is (docs/ARCHITECTURE.md "Clock")."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from icp_mcp.archive.clock import today, utc_now
from icp_mcp.engine.model.profile import ICPDefinition
from icp_mcp.engine.model.windows import parse_as_of


@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14 and UTC-11
def far_zone(request):
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_now_and_today_are_utc_in_any_zone(far_zone):
    local = datetime.now()
    aware = datetime.now(UTC)
    now = utc_now()
    assert now.tzinfo is None and abs(now - aware.replace(tzinfo=None)) < timedelta(seconds=5)
    assert abs(local - now) > timedelta(hours=10), "the zone did not take effect"
    assert today() == aware.date() == parse_as_of(None)
    stamp = ICPDefinition(name="x", criteria=[{"attribute": "industry", "value": "Software", "points": 5}]).derived_at
    assert abs(stamp - now) < timedelta(seconds=5)

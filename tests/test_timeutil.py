"""core.timeutil.local_date: a UTC moment's calendar day in the reseller's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from core.timeutil import LOCAL_TZ, local_date


def test_a_late_evening_in_brazil_is_already_tomorrow_in_utc():
    # 01:30 UTC on 2 March is 22:30 on 1 March in São Paulo (UTC-3).
    assert local_date(datetime(2026, 3, 2, 1, 30)) == date(2026, 3, 1)
    assert local_date(datetime(2026, 3, 2, 3, 0)) == date(2026, 3, 2)


def test_the_zone_may_be_named_or_given_and_aware_moments_are_converted():
    moment = datetime(2026, 3, 2, 1, 30)
    assert local_date(moment, "Asia/Tokyo") == date(2026, 3, 2)
    assert local_date(moment, ZoneInfo("America/Sao_Paulo")) == local_date(moment, LOCAL_TZ)
    assert local_date(moment.replace(tzinfo=UTC)) == date(2026, 3, 1)


def test_no_moment_is_no_day():
    assert local_date(None) is None

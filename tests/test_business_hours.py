"""core.business_hours: working time on a calendar (weekends, national and own holidays,
lunch breaks, overnight shifts, 24x7, daylight-saving changes), as a table of exact
instants, plus properties (adding then counting gives the same amount; monotonic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.business_hours import BusinessCalendar, national_holidays

WEEK = range(5)
# São Paulo (UTC-3 all year): 08:00-12:00 and 13:00-18:00 on weekdays, 9 hours a day.
OFFICE = BusinessCalendar({day: [("08:00", "12:00"), ("13:00", "18:00")] for day in WEEK})
# The same office with its own days off: 10 Nov 2026 and Christmas Eve.
OWN_DATES = BusinessCalendar(OFFICE.hours, holidays={date(2026, 11, 10), date(2026, 12, 24)})
# A night shift, Monday to Friday nights, 22:00 to 06:00 the next morning.
NIGHT = BusinessCalendar({day: [("22:00", "06:00")] for day in WEEK})
ALWAYS = BusinessCalendar.round_the_clock()
# New York changes its clocks (8 Mar 2026: 02:00 -> 03:00; 1 Nov 2026: 02:00 -> 01:00).
NEW_YORK = BusinessCalendar({day: [("09:00", "17:00")] for day in WEEK}, "America/New_York", country="US")
ALWAYS_NEW_YORK = BusinessCalendar.round_the_clock("America/New_York")

# Days of November 2026 used below (and their weekday).
FRI_OCT_30, SAT_31, SUN_NOV_1, MON_2, TUE_3 = (
    "2026-10-30",
    "2026-10-31",
    "2026-11-01",
    "2026-11-02",
    "2026-11-03",
)
SAT_7, MON_9, TUE_10, WED_11 = "2026-11-07", "2026-11-09", "2026-11-10", "2026-11-11"
FRI_13, MON_16, TUE_17, THU_19, MON_23 = "2026-11-13", "2026-11-16", "2026-11-17", "2026-11-19", "2026-11-23"


def local(calendar: BusinessCalendar, text: str) -> datetime:
    """The naive UTC instant of a local wall-clock time ``YYYY-MM-DD HH:MM`` on ``calendar``."""
    aware = datetime.fromisoformat(text).replace(tzinfo=calendar.timezone)
    return aware.astimezone(UTC).replace(tzinfo=None)


ADD = [
    pytest.param(OFFICE, f"{MON_9} 09:00", 60, f"{MON_9} 10:00", id="within the morning"),
    pytest.param(OFFICE, f"{MON_9} 11:30", 60, f"{MON_9} 13:30", id="over the lunch break"),
    pytest.param(OFFICE, f"{MON_9} 17:00", 60, f"{MON_9} 18:00", id="ending at closing time stays there"),
    pytest.param(OFFICE, f"{FRI_13} 17:00", 120, f"{MON_16} 09:00", id="over the weekend"),
    pytest.param(OFFICE, f"{SAT_7} 22:00", 60, f"{MON_9} 09:00", id="from a Saturday night"),
    pytest.param(OFFICE, f"{MON_9} 06:00", 60, f"{MON_9} 09:00", id="from before opening"),
    pytest.param(OFFICE, f"{MON_9} 20:00", 60, f"{TUE_10} 09:00", id="from after closing"),
    pytest.param(OFFICE, f"{FRI_OCT_30} 17:00", 120, f"{TUE_3} 09:00", id="over Finados, Monday 2 November"),
    pytest.param(OFFICE, f"{THU_19} 17:00", 120, f"{MON_23} 09:00", id="over Consciencia Negra, Friday 20"),
    pytest.param(OWN_DATES, f"{MON_9} 17:00", 120, f"{WED_11} 09:00", id="over the reseller's own date"),
    pytest.param(
        OWN_DATES, "2026-12-23 17:00", 120, "2026-12-28 09:00", id="own Christmas Eve, then Christmas"
    ),
    pytest.param(OFFICE, f"{MON_9} 08:00", 9 * 60 * 5, f"{FRI_13} 18:00", id="a whole working week"),
    pytest.param(NIGHT, f"{MON_9} 23:00", 180, f"{TUE_10} 02:00", id="overnight, past midnight"),
    pytest.param(NIGHT, f"{MON_9} 12:00", 60, f"{MON_9} 23:00", id="overnight, from the afternoon"),
    pytest.param(
        NIGHT, f"{FRI_13} 22:00", 600, f"{TUE_17} 00:00", id="overnight, Friday's shift to Monday's"
    ),
    pytest.param(NIGHT, f"{MON_2} 21:00", 60, f"{TUE_3} 23:00", id="overnight, a holiday's shift is off"),
    pytest.param(NIGHT, f"{SAT_7} 03:00", 60, f"{SAT_7} 04:00", id="overnight, Friday's shift ends Saturday"),
    pytest.param(
        ALWAYS, f"{SAT_31} 10:00", 48 * 60, f"{MON_2} 10:00", id="24x7 over a weekend and a holiday"
    ),
    pytest.param(NEW_YORK, f"{FRI_OCT_30} 16:00", 120, f"{MON_2} 10:00", id="New York office, DST ends"),
    pytest.param(ALWAYS_NEW_YORK, f"{SAT_31} 12:00", 24 * 60, f"{SUN_NOV_1} 11:00", id="24x7, a 25-hour day"),
    pytest.param(ALWAYS_NEW_YORK, "2026-03-07 12:00", 24 * 60, "2026-03-08 13:00", id="24x7, a 23-hour day"),
    pytest.param(OFFICE, f"{SAT_7} 22:00", 0, f"{SAT_7} 22:00", id="nothing to add"),
]


@pytest.mark.parametrize(("calendar", "start", "minutes", "expected"), ADD)
def test_adding_business_minutes(calendar, start, minutes, expected):
    start_at = local(calendar, start)
    assert calendar.add_business_seconds(start_at, minutes * 60) == local(calendar, expected)
    assert calendar.business_seconds(start_at, local(calendar, expected)) == minutes * 60


def test_the_daylight_saving_rows_in_utc():
    # 16:00 EDT (UTC-4) on Friday is 20:00 UTC; 10:00 EST (UTC-5) on Monday is 15:00 UTC.
    assert NEW_YORK.add_business_seconds(datetime(2026, 10, 30, 20), 7200) == datetime(2026, 11, 2, 15)
    # A round-the-clock day in New York is 25 hours on 1 November and 23 on 8 March.
    assert ALWAYS_NEW_YORK.business_seconds(datetime(2026, 11, 1, 4), datetime(2026, 11, 2, 5)) == 25 * 3600
    assert ALWAYS_NEW_YORK.business_seconds(datetime(2026, 3, 8, 5), datetime(2026, 3, 9, 4)) == 23 * 3600


COUNT = [
    pytest.param(OFFICE, f"{MON_9} 11:00", f"{MON_9} 14:00", 120, id="lunch is not counted"),
    pytest.param(OFFICE, f"{FRI_13} 17:00", f"{MON_16} 09:00", 120, id="the weekend is not counted"),
    pytest.param(OFFICE, f"{MON_9} 14:00", f"{MON_9} 11:00", 0, id="backwards is nothing"),
    pytest.param(OFFICE, f"{SAT_7} 00:00", f"{SAT_7} 23:59", 0, id="a Saturday is nothing"),
    pytest.param(OFFICE, f"{SUN_NOV_1} 00:00", f"{TUE_3} 00:00", 0, id="Sunday and Finados are nothing"),
    pytest.param(NIGHT, f"{MON_9} 00:00", f"{TUE_10} 00:00", 120, id="a night shift's first hours"),
    pytest.param(ALWAYS, f"{MON_2} 00:00", f"{TUE_3} 00:00", 24 * 60, id="24x7 counts a holiday"),
]


@pytest.mark.parametrize(("calendar", "start", "end", "minutes"), COUNT)
def test_counting_business_minutes(calendar, start, end, minutes):
    assert calendar.business_seconds(local(calendar, start), local(calendar, end)) == minutes * 60


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (OFFICE, f"{MON_9} 08:00", True),
        (OFFICE, f"{MON_9} 12:00", False),
        (OFFICE, f"{MON_9} 17:59", True),
        (OFFICE, f"{MON_9} 18:00", False),
        (OFFICE, f"{MON_2} 10:00", False),
        (OWN_DATES, f"{TUE_10} 10:00", False),
        (NIGHT, f"{TUE_10} 05:59", True),
        (NIGHT, f"{SAT_7} 05:00", True),
        (NIGHT, f"{SAT_7} 22:30", False),
        (ALWAYS, f"{SUN_NOV_1} 03:00", True),
    ],
)
def test_is_business_time(calendar, at, expected):
    assert calendar.is_business_time(local(calendar, at)) is expected


def test_next_business_instant():
    assert OFFICE.next_business_instant(local(OFFICE, f"{SAT_7} 10:00")) == local(OFFICE, f"{MON_9} 08:00")
    assert OFFICE.next_business_instant(local(OFFICE, f"{MON_9} 10:00")) == local(OFFICE, f"{MON_9} 10:00")


def test_brazilian_national_holidays_come_from_the_library():
    found = national_holidays("BR", None, 2026)
    assert {date(2026, 11, 2), date(2026, 11, 15), date(2026, 11, 20), date(2026, 4, 3)} <= found
    assert date(2026, 2, 17) not in found  # Carnival is optional: a reseller's own date
    assert national_holidays("BR", "SP", 2026) >= found | {date(2026, 7, 9)}


def test_calendars_are_values():
    same = BusinessCalendar({day: [("08:00", "12:00"), ("13:00", "18:00")] for day in WEEK})
    assert same == OFFICE and hash(same) == hash(OFFICE)
    assert same != OWN_DATES
    assert BusinessCalendar({0: [("18:00", "24:00")]}).hours[0] == ((18 * 3600, 24 * 3600),)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({0: [("08:00", "12:00"), ("11:00", "13:00")]}, "overlap"),
        ({0: [("22:00", "09:00")], 1: [("08:00", "12:00")]}, "runs into the next day"),
        ({}, "at least one working interval"),
        ({0: [("8h", "12:00")]}, "invalid time of day"),
        ({0: [("24:00", "12:00")]}, "invalid time of day"),
        ({7: [("08:00", "12:00")]}, "weekdays are 0"),
    ],
)
def test_a_wrong_calendar_is_refused_with_a_clear_message(hours, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(hours)


def test_negative_business_time_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        OFFICE.add_business_seconds(datetime(2026, 11, 9, 12), -1)


def test_an_aware_datetime_is_refused():
    with pytest.raises(ValueError, match="naive UTC"):
        OFFICE.add_business_seconds(datetime(2026, 11, 9, 12, tzinfo=UTC), 60)


CALENDARS = st.sampled_from([OFFICE, OWN_DATES, NIGHT, ALWAYS, NEW_YORK, ALWAYS_NEW_YORK])
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31))
AMOUNTS = st.integers(min_value=0, max_value=40 * 24 * 3600)


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, seconds=AMOUNTS)
def test_adding_then_counting_gives_the_same_amount(calendar, start, seconds):
    end = calendar.add_business_seconds(start, seconds)
    assert end >= start
    assert calendar.business_seconds(start, end) == seconds
    if seconds:
        assert calendar.is_business_time(end - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, amounts=st.lists(AMOUNTS, min_size=2, max_size=2))
def test_adding_is_monotonic(calendar, start, amounts):
    smaller, larger = sorted(amounts)
    assert calendar.add_business_seconds(start, smaller) <= calendar.add_business_seconds(start, larger)


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, instants=st.lists(INSTANTS, min_size=3, max_size=3))
def test_counting_is_monotonic_and_additive(calendar, instants):
    first, middle, last = sorted(instants)
    whole = calendar.business_seconds(first, last)
    assert calendar.business_seconds(first, middle) <= whole
    parts = calendar.business_seconds(first, middle) + calendar.business_seconds(middle, last)
    assert parts == pytest.approx(whole, abs=1e-6)

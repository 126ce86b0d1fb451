"""Business calendars: which instants are working time, and arithmetic on working time.

A calendar knows nothing of tickets. It answers three questions about naive UTC
datetimes (as the project stores them, see ``core.timeutil``), reading them in its
own zone (``zoneinfo``, so daylight-saving changes are exact):

- ``add_business_seconds(start, n)``: the instant at which ``n`` working seconds have
  elapsed since ``start`` (``start`` itself for 0; an instant that falls exactly on the
  end of a working interval is returned as that end, never as the next morning);
- ``business_seconds(start, end)``: the working seconds in ``[start, end)``;
  (``add_business_time`` and ``business_time`` are the same with exact ``timedelta``s);
- ``is_business_time(at)``.

Working hours are given per weekday (0 = Monday ... 6 = Sunday) as intervals of local
wall-clock time, several per day (``08:00-12:00`` and ``13:00-18:00`` for a lunch break).
An interval whose end is not after its start ends on the next day: ``22:00-06:00`` is an
overnight shift, ``18:00-00:00`` (or ``18:00-24:00``) ends at midnight and
``00:00-00:00`` is the whole day, so ``round_the_clock()`` is every day ``00:00-00:00``.
An interval belongs to the day it starts on: when that day is a holiday, the whole
shift is off, its hours after midnight included.

Holidays are the country's national public holidays from the ``holidays`` library
(optional days such as Carnival are not among them: a reseller lists them among its
own dates), optionally a subdivision's (``subdivision="SP"``), plus the reseller's own
local dates. The library is asked once per (country, subdivision, year), lazily.

Across a daylight-saving change an interval keeps its wall-clock bounds: a local hour
that does not exist adds no working time, a repeated one counts once per occurrence
of the bounds (the first occurrence is taken for an ambiguous bound).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_library

DEFAULT_ZONE = ZoneInfo("America/Sao_Paulo")
DAY = 86_400
WEEKDAYS = range(7)
# A calendar whose working days are all holidays for this long has no working time:
# give up rather than loop forever.
MAX_IDLE_DAYS = 400

Bound = time | str | int  # an int: seconds after midnight, as ``hours`` stores them
Interval = tuple[int, int]  # seconds from the local midnight of the interval's day


@lru_cache(maxsize=256)
def national_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (and ``subdivision``) in ``year``."""
    return frozenset(holiday_library.country_holidays(country, subdiv=subdivision, years=year))


def _seconds(bound: Bound, *, end: bool) -> int:
    """Seconds after midnight of ``08:00``, ``time(8)``; ``24:00`` only as an end."""
    if isinstance(bound, int) and 0 <= bound <= (2 * DAY if end else DAY - 1):
        return bound
    if isinstance(bound, time):
        return bound.hour * 3600 + bound.minute * 60 + bound.second
    if not isinstance(bound, str):
        raise ValueError(f"invalid time of day {bound!r}: use HH:MM")
    if end and bound.strip() == "24:00":
        return DAY
    try:
        return _seconds(time.fromisoformat(bound.strip()), end=end)
    except ValueError:
        raise ValueError(f"invalid time of day {bound!r}: use HH:MM") from None


def _day_intervals(weekday: int, bounds: Iterable[tuple[Bound, Bound]]) -> tuple[Interval, ...]:
    intervals = []
    for start_bound, end_bound in bounds:
        start, end = _seconds(start_bound, end=False), _seconds(end_bound, end=True)
        if end <= start:
            end += DAY  # overnight, until midnight, or the whole day
        intervals.append((start, end))
    intervals.sort()
    for (_, previous_end), (start, _) in zip(intervals, intervals[1:], strict=False):
        if start < previous_end:
            raise ValueError(f"weekday {weekday}: working intervals overlap")
    return tuple(intervals)


def _normalize_hours(
    hours: Mapping[int, Iterable[tuple[Bound, Bound]]] | tuple[tuple[Interval, ...], ...],
) -> tuple[tuple[Interval, ...], ...]:
    if not isinstance(hours, Mapping):  # a calendar's own ``hours``, one entry a weekday
        hours = dict(enumerate(hours))
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), not {sorted(unknown)}")
    week = tuple(_day_intervals(weekday, hours.get(weekday, ())) for weekday in WEEKDAYS)
    if not any(week):
        raise ValueError("a business calendar needs at least one working interval")
    for weekday, intervals in enumerate(week):
        following = week[(weekday + 1) % 7]
        if intervals and following and intervals[-1][1] > DAY + following[0][0]:
            raise ValueError(f"weekday {weekday}: the overnight interval runs into the next day's hours")
    return week


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday in a zone, minus holidays. Immutable and hashable.

    ``hours`` maps a weekday (0 = Monday) to ``(start, end)`` pairs of ``time`` or
    ``"HH:MM"`` (or is another calendar's ``hours``); ``holidays`` are the reseller's own
    local dates, added to the national ones of ``country`` (``None``: no national holidays).
    """

    hours: Mapping[int, Iterable[tuple[Bound, Bound]]]
    timezone: ZoneInfo | str = DEFAULT_ZONE
    holidays: Iterable[date] = frozenset()
    country: str | None = "BR"
    subdivision: str | None = None
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", _normalize_hours(self.hours))
        if isinstance(self.timezone, str):
            object.__setattr__(self, "timezone", ZoneInfo(self.timezone))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def round_the_clock(
        cls,
        timezone: ZoneInfo | str = DEFAULT_ZONE,
        *,
        country: str | None = None,
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Every hour of every day (24x7); no holidays unless given."""
        return cls({weekday: [("00:00", "00:00")] for weekday in WEEKDAYS}, timezone, holidays, country)

    def is_holiday(self, day: date) -> bool:
        if day in self.holidays:
            return True
        return self.country is not None and day in national_holidays(self.country, self.subdivision, day.year)

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant (naive UTC) at which ``amount`` of working time has elapsed since ``start``."""
        if amount < timedelta(0):
            raise ValueError("business time to add cannot be negative")
        if not amount:
            return start
        for begin, end in self._intervals_from(start):
            span = end - begin
            if amount <= span:
                return begin + amount
            amount -= span
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)`` (none when ``end`` is not after ``start``)."""
        total = timedelta(0)
        if end <= start:
            return total
        for begin, finish in self._intervals_from(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        return self.add_business_time(start, timedelta(seconds=seconds))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        return self.business_time(start, end).total_seconds()

    def is_business_time(self, at: datetime) -> bool:
        begin, _ = next(self._intervals_from(at))
        return begin <= at

    def next_business_instant(self, at: datetime) -> datetime:
        """``at`` when it is working time, else the start of the next working interval."""
        return next(self._intervals_from(at))[0]

    def _intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (naive UTC) ending after ``start``, in order, the first one
        clipped to begin no earlier than ``start``. Endless."""
        if start.tzinfo is not None:
            raise ValueError("business hours take naive UTC datetimes, as stored")
        day = self._local_date(start) - timedelta(days=1)  # yesterday's overnight shift
        last_end, idle = start, 0
        while True:
            intervals = self._utc_intervals(day)
            for begin, end in intervals:
                begin = max(begin, last_end)  # keeps order across a repeated local hour
                if end > begin:
                    yield begin, end
                    last_end, idle = end, 0
            idle += 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError(f"no working time for {MAX_IDLE_DAYS} days after {start:%Y-%m-%d}")
            day += timedelta(days=1)

    def _utc_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The naive UTC bounds of the intervals starting on local ``day`` (cached)."""
        found = self._days.get(day)
        if found is None:
            if self.is_holiday(day):
                found = ()
            else:
                midnight = datetime.combine(day, time())
                found = tuple(
                    (
                        self._to_utc(midnight + timedelta(seconds=begin)),
                        self._to_utc(midnight + timedelta(seconds=end)),
                    )
                    for begin, end in self.hours[day.weekday()]
                )
            self._days[day] = found
        return found

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.timezone).astimezone(UTC).replace(tzinfo=None)

    def _local_date(self, utc: datetime) -> date:
        return utc.replace(tzinfo=UTC).astimezone(self.timezone).date()

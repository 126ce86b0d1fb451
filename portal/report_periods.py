"""The period of the portal's reports and dashboard: local days ``first`` to ``last``,
asked as ISO dates (``from`` / ``to``, at most 366 days; a bad one is the last 30 days
with the reason), grouped by day, week (from Monday) or month. The per-day counts are
folded into the groups here, in Python: the queries group by local day only
(``tenant.windows.local_day``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from core.formatting import date_br
from portal.states import Grouping
from tenant.windows import local_midnight_utc

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Dates outside these years are typing mistakes (and would overflow the day arithmetic).
FIRST_YEAR, LAST_YEAR = 2000, 2999


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last`` (both included), grouped by ``grouping``."""

    first: date
    last: date
    grouping: Grouping = Grouping.DAY

    @property
    def start(self) -> datetime:
        return local_midnight_utc(self.first)

    @property
    def end(self) -> datetime:
        return local_midnight_utc(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def default_period(today: date, grouping: Grouping = Grouping.DAY) -> Period:
    """The last 30 local days, today included."""
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today, grouping)


def _day(raw: str | None) -> date | None:
    day = date.fromisoformat(raw.strip())
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(raw)
    return day


def parse_period(args: Mapping, today: date) -> tuple[Period, str | None]:
    """The period asked by ``from`` / ``to`` (ISO dates) and ``group``; a bad or too long
    one is the default (the last 30 days) with the reason to show."""
    raw_group = args.get("group") or ""
    grouping = Grouping(raw_group) if raw_group in tuple(Grouping) else Grouping.DAY
    default = default_period(today, grouping)
    raw_from, raw_to = args.get("from") or "", args.get("to") or ""
    if not raw_from.strip() and not raw_to.strip():
        return default, None
    try:
        first = _day(raw_from) if raw_from.strip() else default.first
        last = _day(raw_to) if raw_to.strip() else today
    except ValueError:
        return default, _("The dates were not understood (use day/month/year); showing the last 30 days.")
    if first > last:
        return default, _("The start date comes after the end date; showing the last 30 days.")
    if (last - first).days + 1 > MAX_DAYS:
        return default, _("A report covers at most %(n)d days; showing the last 30 days.", n=MAX_DAYS)
    return Period(first, last, grouping), None


def bucket(day: date, grouping: Grouping) -> date:
    """The first day of the group ``day`` falls in (a week starts on Monday)."""
    if grouping == Grouping.WEEK:
        return day - timedelta(days=day.weekday())
    if grouping == Grouping.MONTH:
        return day.replace(day=1)
    return day


def bucket_label(start: date, grouping: Grouping) -> str:
    if grouping == Grouping.WEEK:
        return _("Week of %(day)s", day=date_br(start))
    if grouping == Grouping.MONTH:
        return f"{start.month:02d}/{start.year}"
    return date_br(start)


def fold(period: Period, series: list[dict[date, int]]) -> list[list]:
    """Per-day counts (one dict per series) summed into the period's groups, every group
    listed (zeros included), oldest first: ``[label, n1, n2...]`` rows. A group cut by
    the period's first day is named by that day (a week from Wednesday says so)."""
    groups: dict[date, list[int]] = {}
    for day in period.days:
        sums = groups.setdefault(max(bucket(day, period.grouping), period.first), [0] * len(series))
        for index, counts in enumerate(series):
            sums[index] += counts.get(day, 0)
    return [[bucket_label(start, period.grouping), *sums] for start, sums in groups.items()]

"""What a client used of its current period: the period (start, due date), the sessions
opened in it and a bar per local (Brazil) day. One rule for the client's subscription
page and the reseller's client page.

The counts are session windows (one window opened consumes one session, plan or extra),
read by ``tenant.windows.sessions_per_day``: one grouped query on an index range of
``(client_id, opened_at)``, so only the client's own rows of the period are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from billing.models import Subscription
from tenant.windows import local_midnight_utc, sessions_opened, sessions_per_day

# The chart shows at most this many days: the period so far, or the last days of a
# longer (quarterly, yearly) period, or of the last month when there is no plan.
CHART_DAYS = 31


@dataclass(frozen=True)
class DayBar:
    day: date
    count: int


@dataclass(frozen=True)
class PeriodUse:
    period_start: date
    period_end: date | None
    sessions_used: int
    days: list[DayBar]
    busiest_day: int


def current_period(subscription: Subscription | None, today: date) -> tuple[date, date | None]:
    """The current paid period (start, due date); without one, the chart's last 31 days."""
    if subscription is not None and subscription.current_period_start is not None:
        start = min(subscription.current_period_start, today)
        return start, subscription.current_period_end
    return today - timedelta(days=CHART_DAYS - 1), None


def period_use(client_id: int, subscription: Subscription | None, today: date) -> PeriodUse:
    """Sessions the client opened in its current period up to local day ``today``, per day."""
    start, end = current_period(subscription, today)
    first_chart_day = max(start, today - timedelta(days=CHART_DAYS - 1))
    days = [DayBar(day, count) for day, count in sessions_per_day(client_id, first_chart_day, today)]
    # When the chart covers the whole period its bars are the period's sessions (no window
    # opens after today); only a longer period needs its own count.
    if first_chart_day == start:
        used = sum(d.count for d in days)
    else:
        used = sessions_opened(client_id, local_midnight_utc(start))
    return PeriodUse(
        period_start=start,
        period_end=end,
        sessions_used=used,
        days=days,
        busiest_day=max((d.count for d in days), default=0),
    )

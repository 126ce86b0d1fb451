"""The client page's report (tab *Resumo*, seed 003): users, sessions used this period
and per day, conversations, plan and billing state, latest payments, suspensions.

Every query reads only the one client's rows through an index that starts with
``client_id`` (a range on its own recent rows where time matters), so the page costs
the same with 100,000 clients and millions of session windows. Tickets and the average
rating join the report when service desks exist (a later issue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, case, func, select, true

from auth.models import CLIENT_USER, Account
from billing.models import Payment, Subscription, SuspensionEvent
from billing.summary import current_subscription
from core.extensions import db
from core.tenancy import scoped_select
from tenant.inbox_models import Conversation
from tenant.models import Client
from tenant.states import ConversationStatus
from tenant.windows import local_midnight_utc, sessions_opened, sessions_per_day

# The chart shows at most this many days: the period so far, or the last days of a
# longer (quarterly, yearly) period, or of the last month when there is no plan.
CHART_DAYS = 31
LATEST = 5


@dataclass(frozen=True)
class DayBar:
    day: date
    count: int


@dataclass(frozen=True)
class ClientReport:
    users: int
    active_users: int
    period_start: date
    period_end: date | None
    sessions_used: int
    days: list[DayBar]
    busiest_day: int
    conversations: int
    open_conversations: int
    conversations_in_period: int
    subscription: Subscription | None
    payments: list[Payment]
    suspensions: list[SuspensionEvent]


def _period(subscription: Subscription | None, today: date) -> tuple[date, date | None]:
    """The current paid period (start, due date); without one, the chart's last 31 days."""
    if subscription is not None and subscription.current_period_start is not None:
        start = min(subscription.current_period_start, today)
        return start, subscription.current_period_end
    return today - timedelta(days=CHART_DAYS - 1), None


@cache
def _statements():
    """The report's own three statements, built once and bound per client (``reseller_id``,
    ``client_id``, ``since``): building them cost about 0.4 ms a page, more than running
    them. Built on first use, when every mapper they name is configured.

    - counts: users (all, active) and conversations (all, open, active since ``since``)
      in one round trip, two one-row aggregates side by side;
    - the latest payments and suspensions."""
    reseller_id, client_id, since = bindparam("reseller_id"), bindparam("client_id"), bindparam("since")
    users = (
        scoped_select(
            Account,
            func.count().label("n"),
            func.coalesce(func.sum(case((Account.active.is_(True), 1), else_=0)), 0).label("active_users"),
            reseller_id=reseller_id,
            client_id=client_id,
        )
        .where(Account.kind == CLIENT_USER)
        .subquery()
    )
    talks = scoped_select(
        Conversation,
        func.count().label("n"),
        func.coalesce(func.sum(case((Conversation.status == ConversationStatus.OPEN, 1), else_=0)), 0).label(
            "open_now"
        ),
        func.coalesce(func.sum(case((Conversation.last_message_at >= since, 1), else_=0)), 0).label("recent"),
        reseller_id=reseller_id,
        client_id=client_id,
    ).subquery()
    counts = select(users.c.n, users.c.active_users, talks.c.n, talks.c.open_now, talks.c.recent).select_from(
        users.join(talks, true())
    )
    payments = (
        scoped_select(Payment, reseller_id=reseller_id, client_id=client_id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(LATEST)
    )
    suspensions = (
        scoped_select(SuspensionEvent, reseller_id=reseller_id, client_id=client_id)
        .order_by(SuspensionEvent.created_at.desc(), SuspensionEvent.id.desc())
        .limit(LATEST)
    )
    return counts, payments, suspensions


def client_report(client: Client, today: date) -> ClientReport:
    """The figures of the client's *Resumo* tab on local day ``today``."""
    subscription = current_subscription(client)
    start, end = _period(subscription, today)
    since = local_midnight_utc(start)
    first_chart_day = max(start, today - timedelta(days=CHART_DAYS - 1))
    days = [DayBar(day, count) for day, count in sessions_per_day(client.id, first_chart_day, today)]
    # When the chart covers the whole period its bars are the period's sessions (no window
    # opens after today); only a longer period needs its own count.
    used = sum(d.count for d in days) if first_chart_day == start else sessions_opened(client.id, since)
    counts, latest_payments, latest_suspensions = _statements()
    values = {"reseller_id": client.reseller_id, "client_id": client.id, "since": since}
    counted = db.session.execute(counts, values).one()
    users, active_users, conversations, open_conversations, in_period = counted
    payments = db.session.scalars(latest_payments, values).all()
    suspensions = db.session.scalars(latest_suspensions, values).all()
    return ClientReport(
        users=users,
        active_users=active_users,
        period_start=start,
        period_end=end,
        sessions_used=used,
        days=days,
        busiest_day=max((d.count for d in days), default=0),
        conversations=conversations,
        open_conversations=open_conversations,
        conversations_in_period=in_period,
        subscription=subscription,
        payments=list(payments),
        suspensions=list(suspensions),
    )

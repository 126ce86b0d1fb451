"""The client page's report (tab *Resumo*, seed 003): users, sessions used this period
and per day, conversations, plan and billing state, latest payments, suspensions.

Every query reads only the one client's rows through an index that starts with
``client_id`` (a range on its own recent rows where time matters), so the page costs
the same with 100,000 clients and millions of session windows. The client's average
rating of its tickets (``desk.ratings``, by their client index) and its unfinished tickets
(``desk.work``) are read in the same statement as its users and conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import bindparam, case, func, select, true

from auth.models import CLIENT_USER, Account
from billing.models import Payment, Subscription, SuspensionEvent
from billing.summary import current_subscription
from billing.usage import CHART_DAYS, DayBar, period_use
from core.extensions import db
from core.tenancy import scoped_select
from desk.ratings import ClientRating, client_rating_of, client_rating_select
from desk.work import open_tickets_select
from tenant.inbox_models import Conversation
from tenant.models import Client
from tenant.states import ConversationStatus
from tenant.windows import local_midnight_utc

# The period, its sessions and the chart's days: billing.usage, shared with the client's
# own subscription page.
__all__ = ["CHART_DAYS", "ClientReport", "DayBar", "client_report"]
LATEST = 5


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
    rating: ClientRating
    open_tickets: int


@cache
def _statements():
    """The report's own three statements, built once and bound per client (``reseller_id``,
    ``client_id``, ``since``): building them cost about 0.4 ms a page, more than running
    them. Built on first use, when every mapper they name is configured.

    - counts: users (all, active), conversations (all, open, active since ``since``), the
      ticket ratings (``desk.ratings``) and the unfinished tickets (``desk.work``) in one
      round trip, four one-row aggregates side by side;
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
    rating = client_rating_select(reseller_id, client_id).subquery()
    tickets = open_tickets_select(client_id, reseller_id).subquery()
    counts = select(
        users.c.n,
        users.c.active_users,
        talks.c.n,
        talks.c.open_now,
        talks.c.recent,
        rating.c.rating_average,
        rating.c.ratings,
        tickets.c.open_tickets,
    ).select_from(users.join(talks, true()).join(rating, true()).join(tickets, true()))
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
    use = period_use(client.id, subscription, today)
    since = local_midnight_utc(use.period_start)
    counts, latest_payments, latest_suspensions = _statements()
    values = {"reseller_id": client.reseller_id, "client_id": client.id, "since": since}
    counted = db.session.execute(counts, values).one()
    users, active_users, conversations, open_conversations, in_period = counted[:5]
    average, ratings, open_tickets = counted[5:]
    payments = db.session.scalars(latest_payments, values).all()
    suspensions = db.session.scalars(latest_suspensions, values).all()
    return ClientReport(
        users=users,
        active_users=active_users,
        period_start=use.period_start,
        period_end=use.period_end,
        sessions_used=use.sessions_used,
        days=use.days,
        busiest_day=use.busiest_day,
        conversations=conversations,
        open_conversations=open_conversations,
        conversations_in_period=in_period,
        subscription=subscription,
        payments=list(payments),
        suspensions=list(suspensions),
        rating=client_rating_of(average, ratings),
        open_tickets=open_tickets,
    )

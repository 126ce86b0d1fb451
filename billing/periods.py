"""A subscription's paid period: started when its first invoice is paid, switched to
an upgraded plan, advanced by the roll-over. Used by invoices (paying) and renewals."""

from __future__ import annotations

from datetime import date

from billing import balance
from billing.models import PERIOD_MONTHS, Subscription
from billing.states import SubscriptionStatus
from core.timeutil import add_months
from tenant.models import Client


def months_of(sub: Subscription) -> int:
    return PERIOD_MONTHS.get(sub.plan.period, 1)


def start_first_period(sub: Subscription, client: Client, start: date) -> None:
    """A pending subscription is paid: it is active from ``start`` for one period."""
    sub.status = SubscriptionStatus.ACTIVE
    sub.current_period_start = start
    sub.current_period_end = add_months(start, months_of(sub))
    balance.reset_period(client)


def switch_plan(sub: Subscription, plan_id: int) -> None:
    """The subscription now has ``plan_id`` (an upgrade paid, a downgrade's period came)."""
    sub.plan_id, sub.next_plan_id = plan_id, None


def advance(sub: Subscription) -> date:
    """Move to the next period; returns its first day."""
    start = sub.current_period_end
    sub.current_period_start, sub.current_period_end = start, add_months(start, months_of(sub))
    return start


def is_active(sub: Subscription | None) -> bool:
    return sub is not None and sub.status == SubscriptionStatus.ACTIVE

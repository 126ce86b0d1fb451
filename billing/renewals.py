"""Time-driven billing rules, run by a periodic sweep (every 10 minutes; the dates
live in the database, so a missed run is caught up by the next one):

- a subscription we bill whose period ended rolls over: the next period starts, the
  consumed sessions reset (extras carry over) and a renewal invoice is issued; a
  plan set to end with the period ends, a scheduled downgrade takes effect;
- an open invoice past its due date becomes *overdue* (:func:`invoices.mark_overdue`);
- a client with an invoice overdue beyond the reseller's grace days is suspended
  with the reason *overdue* (:func:`suspension.suspend_overdue`; lifted automatically
  once paid, see :func:`invoices.settle`).

Each step is idempotent: running the sweep twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select

from billing import balance, invoices, periods
from billing.models import Subscription
from billing.states import PaymentKind, PaymentStatus, SubscriptionStatus, SuspensionAction
from billing.subscriptions import end_subscription
from billing.summary import refresh_client_summary
from billing.suspension import suspend_overdue
from core import audit
from core.extensions import db
from core.timeutil import today_local
from tenant.models import Client

log = logging.getLogger(__name__)


def roll_over(today: date) -> int:
    """Start the next period of subscriptions we bill ourselves (manual, or paid through
    Stripe Checkout) whose period ended. A plan set to end with the period is cancelled
    instead; a scheduled downgrade takes effect; an upgrade never paid is voided.

    Each client is its own transaction (the client row locked first, as staff requests
    do): one bad row is logged and does not stop the others."""
    sub_ids = db.session.scalars(
        select(Subscription.id).where(
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscription.stripe_subscription_id.is_(None),
            Subscription.current_period_end.is_not(None),
            Subscription.current_period_end <= today,
        )
    ).all()
    done = 0
    for sub_id in sub_ids:
        try:
            done += _roll_one(sub_id, today)
            db.session.commit()
        except Exception:  # noqa: BLE001 - logged; the next sweep tries again
            db.session.rollback()
            log.exception("roll-over of subscription %s failed", sub_id)
    return done


def _roll_one(sub_id: int, today: date) -> int:
    client_id = db.session.scalar(select(Subscription.client_id).where(Subscription.id == sub_id))
    client = db.session.scalar(select(Client).where(Client.id == client_id).with_for_update())
    sub = db.session.get(Subscription, sub_id, populate_existing=True)
    if not periods.is_active(sub) or sub.current_period_end is None or sub.current_period_end > today:
        return 0  # changed meanwhile
    invoices.void_upgrades(sub)  # an upgrade belongs to the period that ended
    if sub.cancel_at_period_end:
        end_subscription(sub)
        db.session.flush()
        refresh_client_summary(client)
        audit.record("billing.plan_ended", client, details={"period_end": str(sub.current_period_end)})
        return 1
    if sub.next_plan_id is not None:
        periods.switch_plan(sub, sub.next_plan_id)
        db.session.flush()
        db.session.refresh(sub)
    while sub.current_period_end <= today:
        start = periods.advance(sub)
        # The invoice for the period that starts now, due on its first day (the first
        # invoice of a plan added with a future due date is that one).
        if not invoices.has_period_invoice(sub, start):
            invoices.issue(
                sub,
                kind=PaymentKind.RENEWAL,
                amount=sub.plan.price_cents,
                due=start,
                description=f"{sub.plan.name} {start:%m/%Y}",
                status=PaymentStatus.PENDING if start >= today else PaymentStatus.OVERDUE,
            )
    balance.reset_period(client)  # a new period: the plan's sessions again; extras stay
    db.session.flush()
    refresh_client_summary(client)
    audit.record("billing.period_rolled_over", client, details={"period_end": str(sub.current_period_end)})
    return 1


def sweep_deadlines(today: date | None = None) -> dict[str, int]:
    """Roll periods over, mark overdue invoices, suspend late payers."""
    today = today or today_local()
    result = {
        "rolled_over": roll_over(today),
        PaymentStatus.OVERDUE.value: invoices.mark_overdue(today),
    }
    result[SuspensionAction.SUSPENDED.value] = suspend_overdue(today)
    db.session.commit()
    return result

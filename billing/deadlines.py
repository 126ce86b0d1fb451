"""Time-driven billing rules, run by a periodic sweep (every 10 minutes; the dates
live in PostgreSQL, so a missed run is caught up by the next one):

- an open invoice past its due date becomes *overdue*;
- a client with an invoice overdue beyond the reseller's grace days is suspended
  with the reason *overdue* (lifted automatically once paid, see webhooks/services);
- a subscription we bill whose period ended rolls over: the next period starts, the
  consumed sessions reset (extras carry over) and a renewal invoice is issued; a
  plan set to end with the period ends, a scheduled downgrade takes effect.

Each step is idempotent: running the sweep twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select, update

from billing import notices
from billing.models import PERIOD_MONTHS, Payment, Subscription
from billing.services import refresh_client_summary, suspend
from billing.subscriptions import end_subscription, open_invoice_type, void_upgrades
from core import audit
from core.extensions import db
from core.models import Reseller
from core.timeutil import add_months, today_local
from tenant.models import Client

log = logging.getLogger(__name__)


def mark_overdue(today: date) -> int:
    """Open invoices past their due date (pending, or a payment that failed) become
    overdue, with a finance notice for each; returns how many."""
    rows = db.session.execute(
        update(Payment)
        .where(Payment.status.in_(("pending", "failed")), Payment.due_date < today)
        .values(status="overdue")
        .returning(Payment.id, Payment.client_id)
        .execution_options(synchronize_session=False)
    ).all()
    for client_id in sorted({client_id for _, client_id in rows}):
        client = db.session.get(Client, client_id)
        refresh_client_summary(client)
        for payment_id, _ in (row for row in rows if row[1] == client_id):
            notices.queue(client, "overdue", payment=db.session.get(Payment, payment_id))
    return len(rows)


def suspend_overdue(today: date) -> int:
    """Suspend (reason *overdue*) clients whose oldest overdue invoice is past the grace days."""
    rows = db.session.execute(
        select(Client, Reseller.grace_days)
        .join(Reseller, Reseller.id == Client.reseller_id)
        .join(Payment, Payment.client_id == Client.id)
        .where(
            Payment.status == "overdue",
            Client.suspended.is_(False),
            Client.deleted_at.is_(None),
            Client.inactivated_at.is_(None),
        )
        .group_by(Client.id, Reseller.grace_days)
        .having(db.func.min(Payment.due_date) < today)
    ).all()
    count = 0
    for client, grace_days in rows:
        oldest = db.session.scalar(
            select(db.func.min(Payment.due_date)).where(
                Payment.client_id == client.id, Payment.status == "overdue"
            )
        )
        if oldest + timedelta(days=grace_days) < today:
            suspend(client, "overdue", overdue=True)
            count += 1
    return count


def roll_over(today: date) -> int:
    """Start the next period of subscriptions we bill ourselves (manual, or paid through
    Stripe Checkout) whose period ended. A plan set to end with the period is cancelled
    instead; a scheduled downgrade takes effect; an upgrade never paid is voided.

    Each client is its own transaction (the client row locked first, as staff requests
    do): one bad row is logged and does not stop the others."""
    sub_ids = db.session.scalars(
        select(Subscription.id).where(
            Subscription.status == "active",
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
    if sub.status != "active" or sub.current_period_end is None or sub.current_period_end > today:
        return 0  # changed meanwhile
    void_upgrades(sub)  # an upgrade belongs to the period that ended
    if sub.cancel_at_period_end:
        end_subscription(sub)
        db.session.flush()
        refresh_client_summary(client)
        audit.record("billing.plan_ended", client, details={"period_end": str(sub.current_period_end)})
        return 1
    if sub.next_plan_id is not None:
        sub.plan_id, sub.next_plan_id = sub.next_plan_id, None
        db.session.flush()
        db.session.refresh(sub)
    months = PERIOD_MONTHS.get(sub.plan.period, 1)
    while sub.current_period_end <= today:
        start = sub.current_period_end
        sub.current_period_start, sub.current_period_end = start, add_months(start, months)
        # The invoice for the period that starts now, due on its first day (the first
        # invoice of a plan added with a future due date is that one).
        exists = db.session.scalar(
            select(Payment.id).where(
                Payment.subscription_id == sub.id,
                Payment.due_date == start,
                Payment.kind.in_(("plan", "renewal")),
            )
        )
        if exists is None:
            db.session.add(
                Payment(
                    reseller_id=sub.reseller_id,
                    client_id=sub.client_id,
                    subscription_id=sub.id,
                    description=f"{sub.plan.name} {start:%m/%Y}",
                    amount_cents=sub.plan.price_cents,
                    payment_type=open_invoice_type(sub.payment_method),
                    status="pending" if start >= today else "overdue",
                    due_date=start,
                    kind="renewal",
                )
            )
    client.sessions_consumed = 0  # a new period: the plan's sessions again; extras stay
    db.session.flush()
    refresh_client_summary(client)
    audit.record("billing.period_rolled_over", client, details={"period_end": str(sub.current_period_end)})
    return 1


def sweep_deadlines(today: date | None = None) -> dict[str, int]:
    """The periodic job: roll periods over, mark overdue invoices, suspend late payers."""
    today = today or today_local()
    result = {
        "rolled_over": roll_over(today),
        "overdue": mark_overdue(today),
    }
    result["suspended"] = suspend_overdue(today)
    db.session.commit()
    return result

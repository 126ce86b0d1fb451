"""Billing rules. This first cut keeps the client list's billing summary true."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from billing.models import Payment, Subscription, SuspensionEvent
from core import audit
from core.extensions import db
from core.timeutil import LOCAL_TZ
from tenant.models import Client


def current_subscription(client: Client) -> Subscription | None:
    return db.session.scalar(
        select(Subscription)
        .where(Subscription.client_id == client.id, Subscription.status != "cancelled")
        .order_by(Subscription.id.desc())
        .limit(1)
    )


def refresh_client_summary(client: Client) -> None:
    """Recompute the denormalised billing columns of ``client`` from its rows.

    Call it in the same transaction as any change to plans, payments or periods.
    """
    sub = current_subscription(client)
    if sub is None:
        client.plan_id = None
        client.plan_name = None
        client.status = "without_plan"
        client.sessions_quota = 0
        client.due_date = None
    else:
        client.plan_id = sub.plan_id
        client.plan_name = sub.plan.name
        client.status = "active" if sub.status == "active" else "without_plan"
        client.sessions_quota = sub.plan.sessions_per_period if sub.status == "active" else 0
        client.due_date = sub.current_period_end
    latest = db.session.scalar(
        select(Payment)
        .where(Payment.client_id == client.id, Payment.status != "cancelled")
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(1)
    )
    client.payment_type = latest.payment_type if latest else None
    client.payment_status = latest.status if latest else None
    paid_at = db.session.scalar(
        select(Payment.paid_at)
        .where(Payment.client_id == client.id, Payment.status == "paid", Payment.paid_at.is_not(None))
        .order_by(Payment.paid_at.desc())
        .limit(1)
    )
    client.last_payment_date = paid_at.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date() if paid_at else None


def suspend(client: Client, reason: str, *, overdue: bool = False, actor_account_id=None) -> None:
    """Suspend with a reason ("overdue" for the automatic kind); kept in the history."""
    reason = "overdue" if overdue else reason.strip()
    client.suspended = True
    client.suspension_reason = reason
    db.session.add(
        SuspensionEvent(
            reseller_id=client.reseller_id,
            client_id=client.id,
            action="suspended",
            reason=reason,
            actor_account_id=actor_account_id,
        )
    )
    audit.record("client.suspended", client, details={"reason": reason})


def lift_suspension(client: Client, reason: str, *, actor_account_id=None) -> None:
    client.suspended = False
    client.suspension_reason = None
    db.session.add(
        SuspensionEvent(
            reseller_id=client.reseller_id,
            client_id=client.id,
            action="reactivated",
            reason=reason,
            actor_account_id=actor_account_id,
        )
    )
    audit.record("client.suspension_lifted", client, details={"reason": reason})


class BillingRejected(ValueError):
    """Nothing was changed; the message says why."""


def manual_suspend(client: Client, reason: str, *, actor_account_id=None) -> None:
    """Staff suspend a client with a written reason (kept in the history)."""
    from flask_babel import gettext as _

    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 200:
        raise BillingRejected(_("Write the reason (3 to 200 characters)."))
    if client.suspended:
        raise BillingRejected(_("This client is already suspended."))
    suspend(client, reason, actor_account_id=actor_account_id)


def manual_lift(client: Client, reason: str, *, actor_account_id=None) -> None:
    from flask_babel import gettext as _

    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 200:
        raise BillingRejected(_("Write the reason (3 to 200 characters)."))
    if not client.suspended:
        raise BillingRejected(_("This client is not suspended."))
    lift_suspension(client, reason, actor_account_id=actor_account_id)


def add_extra_pack(client: Client, conversations: int, *, actor_account_id=None):
    """Credit extra conversations (they carry over from period to period)."""
    from flask_babel import gettext as _
    from sqlalchemy import update

    from billing.models import ExtraPack

    if not 1 <= conversations <= 100_000:
        raise BillingRejected(_("A pack has from 1 to 100,000 conversations."))
    pack = ExtraPack(
        reseller_id=client.reseller_id,
        client_id=client.id,
        conversations=conversations,
        source="manual",
        actor_account_id=actor_account_id,
    )
    db.session.add(pack)
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(extra_balance=Client.extra_balance + conversations)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(client)
    audit.record("billing.extra_pack_added", client, details={"conversations": conversations})
    return pack


MANUAL_METHODS = ("transfer", "cash")


def record_manual_payment(payment: Payment, method: str, *, actor_account_id=None) -> None:
    """Staff record that an open invoice was paid by transfer or in cash."""
    from flask_babel import gettext as _

    from billing.subscriptions import settle

    if method not in MANUAL_METHODS:
        raise BillingRejected(_("Choose transfer or cash."))
    if payment.status not in Payment.OPEN:
        raise BillingRejected(_("Only an open invoice can be marked as paid."))
    settle(payment, method, reason=_("Payment recorded by staff"))
    client = db.session.get(Client, payment.client_id)
    audit.record("billing.manual_payment", client, details={"payment_id": payment.id, "method": method})

"""Suspending a client and lifting it: by staff with a written reason, automatically
for an invoice overdue beyond the reseller's grace days, lifted once the debt is paid.
Every change is kept in the suspension history."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from billing.errors import BillingRejected
from billing.models import Payment, SuspensionEvent
from billing.states import OVERDUE_REASON, PaymentStatus, SuspensionAction
from core import audit
from core.extensions import db
from core.models import Reseller
from tenant.models import Client


def suspend(client: Client, reason: str, *, overdue: bool = False, actor_account_id=None) -> None:
    """Suspend with a reason ("overdue" for the automatic kind); kept in the history."""
    reason = OVERDUE_REASON if overdue else reason.strip()
    client.suspended = True
    client.suspension_reason = reason
    _history(client, SuspensionAction.SUSPENDED, reason, actor_account_id)
    audit.record("client.suspended", client, details={"reason": reason})


def lift_suspension(client: Client, reason: str, *, actor_account_id=None) -> None:
    client.suspended = False
    client.suspension_reason = None
    _history(client, SuspensionAction.REACTIVATED, reason, actor_account_id)
    audit.record("client.suspension_lifted", client, details={"reason": reason})


def _history(client: Client, action: str, reason: str, actor_account_id) -> None:
    db.session.add(
        SuspensionEvent(
            reseller_id=client.reseller_id,
            client_id=client.id,
            action=action,
            reason=reason,
            actor_account_id=actor_account_id,
        )
    )


def _written_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 200:
        raise BillingRejected(_("Write the reason (3 to 200 characters)."), param="reason")
    return reason


def manual_suspend(client: Client, reason: str, *, actor_account_id=None) -> None:
    """Staff suspend a client with a written reason (kept in the history)."""
    reason = _written_reason(reason)
    if client.suspended:
        raise BillingRejected(_("This client is already suspended."))
    suspend(client, reason, actor_account_id=actor_account_id)


def manual_lift(client: Client, reason: str, *, actor_account_id=None) -> None:
    reason = _written_reason(reason)
    if not client.suspended:
        raise BillingRejected(_("This client is not suspended."))
    lift_suspension(client, reason, actor_account_id=actor_account_id)


def lift_if_debt_paid(client: Client, reason: str) -> None:
    """After a payment: a client suspended for debt is reactivated once nothing is overdue."""
    if not (client.suspended and client.suspension_reason == OVERDUE_REASON):
        return
    still_owing = db.session.scalar(
        select(Payment.id)
        .where(Payment.client_id == client.id, Payment.status == PaymentStatus.OVERDUE)
        .limit(1)
    )
    if still_owing is None:
        lift_suspension(client, reason)


def suspend_overdue(today: date) -> int:
    """Suspend (reason *overdue*) clients whose oldest overdue invoice is past the grace days."""
    rows = db.session.execute(
        select(Client, Reseller.grace_days)
        .join(Reseller, Reseller.id == Client.reseller_id)
        .join(Payment, Payment.client_id == Client.id)
        .where(
            Payment.status == PaymentStatus.OVERDUE,
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
                Payment.client_id == client.id, Payment.status == PaymentStatus.OVERDUE
            )
        )
        if oldest + timedelta(days=grace_days) < today:
            suspend(client, OVERDUE_REASON, overdue=True)
            count += 1
    return count

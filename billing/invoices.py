"""Invoices and payments: the only place a ``Payment`` row is built or changes status.

Issuing (a plan's first invoice, an upgrade, a period's renewal, a Stripe invoice
mirrored, an extra pack paid through Checkout), voiding, marking overdue, settling
(with what paying means for the subscription), manual payments and refunds. Every
function works inside the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from billing import balance, notices, periods
from billing.errors import BillingRejected
from billing.models import ExtraPack, Payment, Subscription
from billing.states import (
    NOT_OVERDUE_YET,
    OPEN_PAYMENT_STATUSES,
    NoticeKind,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    SubscriptionStatus,
)
from billing.summary import refresh_client_summary
from billing.suspension import lift_if_debt_paid
from core import audit
from core.extensions import db
from core.timeutil import local_date, utcnow
from tenant.models import Client

MANUAL_METHODS = ("transfer", "cash")


def open_invoice_type(method: str) -> str:
    """The payment type shown on an unpaid invoice: Stripe (the client picks card,
    boleto or PIX at checkout) or a bank transfer recorded by staff."""
    return "stripe" if method == PaymentMethod.STRIPE else "transfer"


def _new(client_id: int, reseller_id: int, **values) -> Payment:
    """The one constructor of a payment row."""
    payment = Payment(reseller_id=reseller_id, client_id=client_id, **values)
    db.session.add(payment)
    return payment


def issue(
    sub: Subscription,
    *,
    kind: str,
    amount: int,
    due: date,
    description: str,
    target=None,
    status: str = PaymentStatus.PENDING,
) -> Payment:
    """An invoice of ``sub`` (plan, upgrade or renewal), payable as the subscription pays."""
    payment = _new(
        sub.client_id,
        sub.reseller_id,
        subscription_id=sub.id,
        description=description[:200],
        amount_cents=amount,
        payment_type=open_invoice_type(sub.payment_method),
        status=status,
        due_date=due,
        kind=kind,
        target_plan_id=target.id if target is not None else None,
    )
    db.session.flush()
    return payment


def mirror_stripe_invoice(
    client: Client,
    stripe_invoice_id: str,
    *,
    sub: Subscription | None,
    description: str,
    amount: int,
    due: date,
) -> Payment:
    """The payment that mirrors a Stripe invoice (one per invoice), open until paid."""
    return _new(
        client.id,
        client.reseller_id,
        subscription_id=sub.id if sub else None,
        description=description[:200],
        amount_cents=amount,
        payment_type="card",
        status=PaymentStatus.PENDING,
        due_date=due,
        stripe_invoice_id=stripe_invoice_id,
    )


def record_pack_payment(
    client: Client,
    *,
    conversations: int,
    amount: int,
    method: str,
    due: date,
    paid_at: datetime,
    checkout_id: str,
    intent_id: str | None,
) -> Payment:
    """An extra pack paid through Checkout: recorded as paid at once."""
    payment = _new(
        client.id,
        client.reseller_id,
        description=f"+{conversations} conversas extras",
        amount_cents=amount,
        payment_type=method,
        status=PaymentStatus.PAID,
        due_date=due,
        paid_at=paid_at,
        kind=PaymentKind.EXTRA_PACK,
        stripe_checkout_id=checkout_id,
        stripe_payment_intent_id=intent_id,
    )
    db.session.flush()
    return payment


# --- voiding and dating ------------------------------------------------------------


def void_open(sub: Subscription, *, kinds: tuple[str, ...], only_not_overdue: bool = True) -> int:
    """Void the open invoices of ``kinds``. Overdue plan and renewal invoices are
    debt for time already given and stay; an upgrade never given is always voided."""
    statuses = NOT_OVERDUE_YET if only_not_overdue else OPEN_PAYMENT_STATUSES
    return (
        db.session.execute(
            update(Payment)
            .where(Payment.subscription_id == sub.id, Payment.kind.in_(kinds), Payment.status.in_(statuses))
            .values(status=PaymentStatus.CANCELLED)
            .execution_options(synchronize_session="fetch")
        ).rowcount
        or 0
    )


def void_upgrades(sub: Subscription) -> int:
    return void_open(sub, kinds=(PaymentKind.UPGRADE,), only_not_overdue=False)


def void_first_invoice(sub: Subscription) -> date | None:
    """A pending subscription changes plan: its open first invoice is voided; returns
    that invoice's due date."""
    old_due = db.session.scalar(
        select(Payment.due_date).where(
            Payment.subscription_id == sub.id,
            Payment.kind == PaymentKind.PLAN,
            Payment.status.in_(OPEN_PAYMENT_STATUSES),
        )
    )
    void_open(sub, kinds=(PaymentKind.PLAN,), only_not_overdue=False)
    return old_due


def retype_open(sub: Subscription, method: str) -> None:
    """The subscription's payment method changed: its open invoices follow."""
    db.session.execute(
        update(Payment)
        .where(Payment.subscription_id == sub.id, Payment.status.in_(OPEN_PAYMENT_STATUSES))
        .values(payment_type=open_invoice_type(method))
        .execution_options(synchronize_session="fetch")
    )


def has_period_invoice(sub: Subscription, due: date) -> bool:
    return (
        db.session.scalar(
            select(Payment.id).where(
                Payment.subscription_id == sub.id,
                Payment.due_date == due,
                Payment.kind.in_((PaymentKind.PLAN, PaymentKind.RENEWAL)),
            )
        )
        is not None
    )


def mark_overdue(today: date) -> int:
    """Open invoices past their due date (pending, or a payment that failed) become
    overdue, with a finance notice for each; returns how many."""
    rows = db.session.execute(
        update(Payment)
        .where(Payment.status.in_(NOT_OVERDUE_YET), Payment.due_date < today)
        .values(status=PaymentStatus.OVERDUE)
        .returning(Payment.id, Payment.client_id)
        .execution_options(synchronize_session=False)
    ).all()
    for client_id in sorted({client_id for _payment_id, client_id in rows}):
        client = db.session.get(Client, client_id)
        refresh_client_summary(client)
        for payment_id, _client_id in (row for row in rows if row[1] == client_id):
            notices.queue(client, NoticeKind.OVERDUE, payment=db.session.get(Payment, payment_id))
    return len(rows)


# --- money that did not come -------------------------------------------------------


def checkout_failed(payment: Payment, client: Client) -> None:
    """A boleto or PIX was never paid: a pending invoice shows the failure."""
    if payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.FAILED
        db.session.flush()
        refresh_client_summary(client)


def awaiting_checkout(payment: Payment, client: Client, *, checkout_id: str, method: str) -> None:
    """A boleto or PIX was issued: the invoice waits for the money."""
    payment.stripe_checkout_id = checkout_id
    payment.payment_type = method
    db.session.flush()
    refresh_client_summary(client)


def stripe_invoice_unpaid(payment: Payment, client: Client, *, failed: bool) -> None:
    """Stripe says its invoice failed or waits for an action; a paid one stays paid."""
    if payment.status == PaymentStatus.PAID:
        return
    payment.status = PaymentStatus.FAILED if failed else PaymentStatus.PENDING
    db.session.flush()
    refresh_client_summary(client)


def refund(payment: Payment, client: Client) -> int:
    """The payment was refunded; a refunded extra pack takes back the conversations
    still unused (returned). The plan is left as it is (staff decide)."""
    payment.status = PaymentStatus.REFUNDED
    taken_back = 0
    if payment.kind == PaymentKind.EXTRA_PACK and payment.stripe_checkout_id:
        pack = db.session.scalar(
            select(ExtraPack).where(ExtraPack.stripe_checkout_id == payment.stripe_checkout_id)
        )
        if pack is not None:
            taken_back = balance.take_back_pack(client, pack)
    db.session.flush()
    refresh_client_summary(client)
    return taken_back


# --- paying an invoice -------------------------------------------------------------


def settle(
    payment: Payment,
    payment_type: str,
    *,
    paid_at: datetime | None = None,
    reason: str = "",
    checkout_id: str | None = None,
) -> bool:
    """Record ``payment`` as paid and apply what paying it means. Idempotent: an
    invoice already paid is left alone (returns False).

    Money for an invoice that was voided (or an upgrade whose period is over) is
    recorded, but gives nothing: the finance staff are told to refund or apply it.
    """
    if payment.status == PaymentStatus.PAID:
        return False
    was_open = payment.status in OPEN_PAYMENT_STATUSES
    payment.status = PaymentStatus.PAID
    payment.payment_type = payment_type
    payment.paid_at = paid_at or utcnow()
    if checkout_id:
        payment.stripe_checkout_id = checkout_id
    client = db.session.get(Client, payment.client_id)
    sub = db.session.get(Subscription, payment.subscription_id) if payment.subscription_id else None
    effect = None
    if not was_open:
        effect = "none: the invoice was voided"
    elif sub is not None and payment.kind == PaymentKind.PLAN and sub.status == SubscriptionStatus.PENDING:
        periods.start_first_period(sub, client, local_date(payment.paid_at))
        effect = "activated"
    elif payment.kind == PaymentKind.UPGRADE:
        if periods.is_active(sub) and _issued_this_period(payment, sub):
            periods.switch_plan(sub, payment.target_plan_id)
            effect = "upgraded"
        else:
            effect = "none: the upgrade's period is over"
    db.session.flush()
    if sub is not None:
        db.session.refresh(sub)
    refresh_client_summary(client)
    audit.record(
        "billing.invoice_paid",
        client,
        details={"payment_id": payment.id, "payment_type": payment_type, "effect": effect},
    )
    lift_if_debt_paid(client, reason or _("Debt paid"))
    if effect and effect.startswith("none"):
        notices.queue(client, NoticeKind.PAID_WITHOUT_EFFECT, payment=payment, staff_only=True)
    else:
        notices.queue(client, NoticeKind.PAID, payment=payment)
        if effect == "upgraded":
            notices.queue(client, NoticeKind.NEW_PLAN, plan=sub.plan)
    return True


def _issued_this_period(payment: Payment, sub: Subscription) -> bool:
    start = sub.current_period_start
    return start is None or local_date(payment.created_at or utcnow()) >= start


def record_second_payment(payment: Payment, payment_type: str, checkout_id: str) -> None:
    """The client paid an invoice that was already paid (by transfer, or through an
    older Checkout): keep a trace and tell the finance staff, who refund it."""
    client = db.session.get(Client, payment.client_id)
    audit.record(
        "billing.paid_twice",
        client,
        details={"payment_id": payment.id, "payment_type": payment_type, "checkout": checkout_id},
    )
    notices.queue(client, NoticeKind.PAID_TWICE, payment=payment, staff_only=True)


def record_manual_payment(payment: Payment, method: str, *, actor_account_id=None) -> None:
    """Staff record that an open invoice was paid by transfer or in cash."""
    if method not in MANUAL_METHODS:
        raise BillingRejected(_("Choose transfer or cash."), param="method")
    if payment.status not in OPEN_PAYMENT_STATUSES:
        raise BillingRejected(_("Only an open invoice can be marked as paid."))
    settle(payment, method, reason=_("Payment recorded by staff"))
    client = db.session.get(Client, payment.client_id)
    audit.record("billing.manual_payment", client, details={"payment_id": payment.id, "method": method})

"""What each Stripe event type means here. Handlers find the client and the rows an
event is about and call the billing rules (invoices, balance, subscriptions); they
never assign a status themselves. Idempotent per object: an older event never
overwrites what a newer one set, and a checkout credits its pack once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from billing import balance, invoices, subscriptions
from billing.models import ExtraPack, Payment, StripeObjectMark, Subscription
from billing.states import (
    CHECKOUT_PAID_STATUSES,
    STRIPE_LIVE_STATUSES,
    PackSource,
    PaymentKind,
    PaymentStatus,
    StripeSubscriptionStatus,
)
from billing.summary import refresh_client_summary
from core import audit
from core.extensions import db
from core.timeutil import local_date
from core.validation import parse_int
from tenant.models import Client

CHECKOUT_COMPLETED = "checkout.session.completed"
CHECKOUT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
CHECKOUT_ASYNC_FAILED = "checkout.session.async_payment_failed"
SUBSCRIPTION_DELETED = "customer.subscription.deleted"
INVOICE_PAID = "invoice.paid"
INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
CHECKOUT_METHODS = ("card", "boleto", "pix")


class NotYet(Exception):
    """The event is about something this inbox has not seen yet (a refund delivered
    before the payment it refunds): left unapplied, so the drain or the sweep tries it
    again once the earlier event is in."""


def apply_event(event) -> str:
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return "ignored"
    return handler(event, event["data"]["object"])


# --- finding what an event is about ------------------------------------------------


def _newer_than_mark(object_id: str | None, event) -> bool:
    """Record ``event`` as the newest for its object; False when a newer one was applied."""
    if not object_id:
        return True
    created = int(event.get("created") or 0)
    mark = db.session.get(StripeObjectMark, object_id)
    if mark is not None and mark.last_event_created > created:
        return False
    if mark is None:
        db.session.add(
            StripeObjectMark(object_id=object_id, last_event_created=created, last_event_id=event["id"])
        )
    else:
        mark.last_event_created, mark.last_event_id = created, event["id"]
    db.session.flush()
    return True


def _stripe_subscription(sub_id) -> Subscription | None:
    if not sub_id:
        return None
    return db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == sub_id))


def _client_for(obj: dict) -> Client | None:
    metadata = obj.get("metadata") or {}
    client_id = parse_int(metadata.get("client_id"), min=1)
    if client_id is not None:
        return db.session.get(Client, client_id)
    sub_id = obj.get("subscription")
    if isinstance(sub_id, dict):
        sub_id = sub_id.get("id")
    sub = _stripe_subscription(sub_id)
    if sub is not None:
        return db.session.get(Client, sub.client_id)
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if customer:
        return db.session.scalar(select(Client).where(Client.stripe_customer_id == customer))
    return None


def _fresh_client(event, obj) -> tuple[Client | None, str]:
    """The client of an event about a Stripe object, unless a newer event about that
    object was applied already; else ``None`` and why."""
    if not _newer_than_mark(obj.get("id"), event):
        return None, "stale"
    return _client_for(obj), "unknown client"


def _locked(client: Client) -> Client:
    """Lock the client row before its payments (the order staff requests use too)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Client.id).where(Client.id == client.id).with_for_update())
    return client


def _intent(obj) -> str | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent or None


def _method(metadata) -> str:
    method = metadata.get("method")
    return method if method in CHECKOUT_METHODS else "card"


def _moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)


def _day(timestamp: int) -> date:
    """The calendar day in Brazil of a Stripe timestamp (due dates are Brazilian days)."""
    return local_date(_moment(timestamp))


def event_now() -> int:
    return int(datetime.now(UTC).timestamp())


# --- Checkout ----------------------------------------------------------------------


def _on_checkout_completed(event, session) -> str:
    """A Checkout finished. Card payments are paid now; boleto and PIX are paid later
    (``checkout.session.async_payment_succeeded``) or never (``..._failed``)."""
    client = _client_for(session)
    if client is None:
        return "unknown client"
    metadata = session.get("metadata") or {}
    paid = event["type"] == CHECKOUT_ASYNC_SUCCEEDED or (
        event["type"] == CHECKOUT_COMPLETED and session.get("payment_status") in CHECKOUT_PAID_STATUSES
    )
    failed = event["type"] == CHECKOUT_ASYNC_FAILED
    if metadata.get("kind") == PaymentKind.EXTRA_PACK:
        if not paid:
            return "pack payment failed" if failed else "pack awaiting payment"
        return _credit_pack(event, session, client, metadata)
    if metadata.get("kind") == "invoice":
        return _checkout_invoice(event, session, client, metadata, paid=paid, failed=failed)
    return "checkout recorded"


def _credit_pack(event, session, client: Client, metadata) -> str:
    conversations = parse_int(metadata.get("conversations")) or 0
    exists = db.session.scalar(select(ExtraPack.id).where(ExtraPack.stripe_checkout_id == session["id"]))
    if exists or conversations <= 0:
        return "pack already credited"
    balance.credit_pack(client, conversations, source=PackSource.STRIPE, checkout_id=session["id"])
    invoices.record_pack_payment(
        client,
        conversations=conversations,
        amount=int(session.get("amount_total") or 0),
        method=_method(metadata),
        due=_day(event["created"]),
        paid_at=_moment(event["created"]),
        checkout_id=session["id"],
        intent_id=_intent(session),
    )
    db.session.refresh(client)
    refresh_client_summary(client)
    audit.record("billing.extra_pack_credited", client, details={"conversations": conversations})
    return "pack credited"


def _checkout_invoice(event, session, client: Client, metadata, *, paid: bool, failed: bool) -> str:
    _locked(client)
    payment_id = parse_int(metadata.get("payment_id"), min=1)
    payment = (
        db.session.scalar(
            select(Payment).where(Payment.id == payment_id, Payment.client_id == client.id).with_for_update()
        )
        if payment_id is not None
        else None
    )
    if payment is None:
        return "unknown invoice"
    if paid:
        if payment.status == PaymentStatus.REFUNDED:
            return "already refunded"
        if payment.status == PaymentStatus.PAID:
            if payment.stripe_checkout_id == session["id"]:
                return "invoice already paid"
            # Paid by transfer, or through another Checkout, before this one.
            invoices.record_second_payment(payment, _method(metadata), session["id"])
            return "invoice paid twice"
        invoices.settle(
            payment, _method(metadata), paid_at=_moment(event["created"]), checkout_id=session["id"]
        )
        payment.stripe_payment_intent_id = _intent(session)
        return "invoice paid"
    if payment.status == PaymentStatus.PAID:
        return "invoice already paid"
    if failed:
        invoices.checkout_failed(payment, client)
        audit.record("billing.checkout_failed", client, details={"payment_id": payment.id})
        return "invoice payment failed"
    # Boleto or PIX issued: the invoice waits for the money.
    invoices.awaiting_checkout(payment, client, checkout_id=session["id"], method=_method(metadata))
    return "invoice awaiting payment"


# --- subscriptions and invoices that live in Stripe --------------------------------


def _on_subscription(event, obj) -> str:
    client, refusal = _fresh_client(event, obj)
    if client is None:
        return refusal
    sub = _stripe_subscription(obj["id"]) or subscriptions.mirror_stripe_subscription(
        client, obj["id"], parse_int((obj.get("metadata") or {}).get("plan_id"), min=1)
    )
    if sub is None:
        return "unknown plan"
    subscriptions.sync_from_stripe(
        client,
        sub,
        deleted=event["type"] == SUBSCRIPTION_DELETED
        or obj.get("status") == StripeSubscriptionStatus.CANCELED,
        live=obj.get("status") in STRIPE_LIVE_STATUSES,
        period_start=_day(obj["current_period_start"]) if obj.get("current_period_start") else None,
        period_end=_day(obj["current_period_end"]) if obj.get("current_period_end") else None,
    )
    audit.record("billing.subscription_synced", client, details={"stripe_status": obj.get("status")})
    return f"subscription {sub.status}"


def _invoice_payment(obj, client: Client) -> Payment:
    payment = db.session.scalar(select(Payment).where(Payment.stripe_invoice_id == obj["id"]))
    if payment is None:
        payment = invoices.mirror_stripe_invoice(
            client,
            obj["id"],
            sub=_stripe_subscription(obj.get("subscription")),
            description=obj.get("description") or "Fatura Stripe",
            amount=int(obj.get("amount_due") or obj.get("amount_paid") or 0),
            due=_day(obj.get("due_date") or obj.get("created") or event_now()),
        )
    return payment


def _on_invoice(event, obj) -> str:
    client, refusal = _fresh_client(event, obj)
    if client is None:
        return refusal
    _locked(client)
    payment = _invoice_payment(obj, client)
    kind = event["type"]
    if kind == INVOICE_PAID:
        transitions = (obj.get("status_transitions") or {}).get("paid_at")
        if isinstance(obj.get("charge"), str):
            payment.stripe_charge_id = obj["charge"]
        if payment.status == PaymentStatus.REFUNDED:
            return "already refunded"  # the refund came in first: it stays refunded
        invoices.settle(payment, payment.payment_type, paid_at=_moment(transitions or event["created"]))
    else:
        invoices.stripe_invoice_unpaid(payment, client, failed=kind == INVOICE_PAYMENT_FAILED)
    audit.record(f"billing.{kind}", client, details={"invoice": obj["id"]})
    return f"payment {payment.status}"


def _on_charge_refunded(event, obj) -> str:
    """A refund: the payment shows as refunded; a refunded extra pack takes back the
    conversations still unused. The plan is left as it is (staff decide)."""
    payment = db.session.scalar(select(Payment).where(Payment.stripe_charge_id == obj["id"]))
    if payment is None and obj.get("invoice"):
        payment = db.session.scalar(select(Payment).where(Payment.stripe_invoice_id == obj["invoice"]))
    if payment is None and _intent(obj):
        payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == _intent(obj)))
    if payment is None:
        # Delivered before the payment's own event (or about money this system never
        # billed): tried again by the drain and the sweep, then left for a person.
        raise NotYet(f"charge {obj.get('id')} is not known yet")
    if payment.status == PaymentStatus.REFUNDED:
        return "already refunded"
    client = _locked(db.session.get(Client, payment.client_id))
    taken_back = invoices.refund(payment, client)
    audit.record(
        "billing.charge_refunded", client, details={"charge": obj["id"], "conversations": taken_back}
    )
    return "payment refunded"


HANDLERS = {
    CHECKOUT_COMPLETED: _on_checkout_completed,
    CHECKOUT_ASYNC_SUCCEEDED: _on_checkout_completed,
    CHECKOUT_ASYNC_FAILED: _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    SUBSCRIPTION_DELETED: _on_subscription,
    INVOICE_PAID: _on_invoice,
    INVOICE_PAYMENT_FAILED: _on_invoice,
    "invoice.payment_action_required": _on_invoice,
    "charge.refunded": _on_charge_refunded,
}

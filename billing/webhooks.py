"""Stripe webhooks: verify, store in the inbox, answer; apply later in a job.

The view only verifies the signature on the raw body and writes the event to the
``stripe_events`` inbox (unique event id) before answering 2xx. Applying it is a job
(RQ, or in-process in the demo); if the job is lost (Redis down, worker killed) the
sweeper finds the row and applies it. Applying is idempotent per event (the row is
locked and marked) and per object (an older event never overwrites what a newer one
set, and a checkout credits its pack once).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta

import stripe
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import Engine, select, text, update

from auth.services import public
from billing.models import ExtraPack, Payment, Plan, StripeEvent, StripeObjectMark, Subscription
from billing.services import refresh_client_summary
from billing.subscriptions import record_second_payment, settle
from core import audit, jobs
from core.access import tenantless
from core.extensions import csrf, db
from core.timeutil import LOCAL_TZ, utcnow
from core.validation import MAX_DB_INT, parse_int
from tenant.models import Client

log = logging.getLogger(__name__)
bp = Blueprint("stripe_webhooks", __name__)

TOLERANCE_SECONDS = 300
MAX_BODY = 1024 * 1024
SWEEP_AFTER = timedelta(minutes=2)


@bp.post("/webhooks/stripe")
@public
@tenantless
@csrf.exempt
def receive():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    raw = request.get_data(cache=False)
    if not secret or len(raw) > MAX_BODY:
        return jsonify(error="not accepted"), 400
    try:
        # Stripe's own check of the signature on the raw body (no StripeObject is
        # built: the verified bytes are read as plain data).
        stripe.WebhookSignature.verify_header(
            raw.decode("utf-8"),
            request.headers.get("Stripe-Signature", ""),
            secret,
            tolerance=TOLERANCE_SECONDS,
        )
        # From text: json.loads(bytes) would also read UTF-16/32, whose NUL bytes the
        # NUL guard (core.validation) does not see. A raw NUL in text is no JSON.
        event = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError, stripe.SignatureVerificationError):
        return jsonify(error="invalid signature"), 400
    if not well_formed(event):
        return jsonify(error="not an event"), 400
    store(event, raw.decode("utf-8"))
    # The event is durable now. If its job could not be queued (Redis down), the
    # answer is still 2xx: the sweeper applies the row later.
    return jsonify(received=True), 200


def well_formed(event) -> bool:
    """Whether parsed JSON has the shape of a Stripe event as the inbox row and every
    handler read it: string ``id`` and ``type`` that fit their columns, an integer
    ``created``, and ``data.object`` an object whose ``id``, if any, is a string.
    Type checks only: this runs on the intake's hot path."""
    if not isinstance(event, dict):
        return False
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 100):
        return False
    if not (isinstance(kind, str) and 0 < len(kind) <= 100):
        return False
    if type(created) is not int or not 0 <= created <= MAX_DB_INT:  # type(): True is an int too
        return False
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return False
    object_id = data["object"].get("id")
    return object_id is None or (isinstance(object_id, str) and len(object_id) <= 100)


# One statement for both databases (PostgreSQL, SQLite ≥ 3.35): insert once, get the
# new row's id, or nothing for a duplicate.
_INSERT = text(
    "INSERT INTO stripe_events (event_id, type, object_id, created, payload, received_at, attempts) "
    "VALUES (:event_id, :type, :object_id, :created, :payload, :received_at, 0) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING id"
)
# The same statement for psycopg itself (the intake's hot path skips SQLAlchemy's
# statement machinery).
_INSERT_DRIVER = (
    "INSERT INTO stripe_events (event_id, type, object_id, created, payload, received_at, attempts) "
    "VALUES (%(event_id)s, %(type)s, %(object_id)s, %(created)s, %(payload)s, %(received_at)s, 0) "
    "ON CONFLICT (event_id) DO NOTHING RETURNING id"
)
DRAIN_KEY = "stripe-inbox"


def store(event, payload: str) -> int | None:
    """Insert the event (:func:`well_formed`) into the inbox once; returns the new row's
    id, ``None`` for a duplicate. Once the row is durable, a drain job is queued
    (coalesced: under a burst, one waiting drain serves every event stored before it
    starts)."""
    params = {
        "event_id": event["id"],
        "type": event["type"],
        "object_id": event["data"]["object"].get("id"),
        "created": event["created"],
        "payload": payload,
        "received_at": utcnow(),
    }
    if isinstance(db.session.get_bind(), Engine) and db.engine.dialect.name == "postgresql":
        # One statement is its own transaction: without BEGIN and COMMIT it costs one
        # round trip instead of three, and the row is durable when it returns. (A
        # session joined to an outer transaction, as in the tests, takes the path below.)
        connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        found = connection.connection.driver_connection.execute(_INSERT_DRIVER, params).fetchone()
        row_id = found[0] if found else None
        if row_id is not None:
            jobs.enqueue_committed(**DRAIN_JOB)
        return row_id
    row_id = db.session.execute(_INSERT, params).scalar()
    if row_id is None:
        # A duplicate delivery: the first one queued the work (or the sweeper will).
        db.session.rollback()
        return None
    jobs.enqueue(**DRAIN_JOB)  # queued once the row is committed, before the 2xx
    db.session.commit()
    return row_id


DRAIN_JOB = dict(func="billing.webhooks.drain", queue="billing", unique_key=DRAIN_KEY, retries=3)


# --- applying ---------------------------------------------------------------------------


class NotYet(Exception):
    """The event is about something this inbox has not seen yet (a refund delivered
    before the payment it refunds): left unapplied, so the drain or the sweep tries it
    again once the earlier event is in."""


def apply(row_id: int, *, skip_locked: bool = False) -> str:
    """Apply one inbox row, once. Returns what happened (for logs and tests). With
    ``skip_locked``, a row another worker is applying right now is left to it."""
    stmt = select(StripeEvent).where(StripeEvent.id == row_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    row = db.session.scalar(stmt)
    if row is None:
        db.session.rollback()
        return "missing or busy"
    if row.processed_at is not None:
        db.session.rollback()
        return "already applied"
    try:
        event = json.loads(row.payload)
    except (ValueError, RecursionError):
        event = None
    if not well_formed(event):
        # Stored before the intake checked the shape: no handler can read it and no
        # retry would change that, so it is closed at once (a person can look at it).
        row.processed_at, row.outcome, row.attempts = utcnow(), UNPROCESSABLE, (row.attempts or 0) + 1
        db.session.commit()
        log.warning("Stripe event row %s is not a readable event: left unapplied", row_id)
        return UNPROCESSABLE
    try:
        outcome = _apply_event(event)
    except Exception as exc:
        db.session.rollback()
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == row_id)
            .values(attempts=StripeEvent.attempts + 1, last_error=str(exc)[:500])
        )
        db.session.commit()
        raise
    row.processed_at = utcnow()
    row.outcome = outcome
    row.attempts = (row.attempts or 0) + 1
    db.session.commit()
    return outcome


UNPROCESSABLE = "unprocessable"


def drain() -> int:
    """Job: apply every inbox row not applied yet, oldest Stripe timestamp first.

    It releases its coalescing flag before reading, so an event stored from then on
    queues another drain. Web processes that saw it waiting do not ask Redis again for
    a moment (``jobs.UNIQUE_LOCAL_WINDOW``): a last pass after that moment reads what
    they stored meanwhile. Rows that fail stay for the sweeper (attempts counted).
    """
    released_at = jobs.release_unique(DRAIN_KEY)
    applied = _drain_pass()
    jobs.wait_for_final_pass(released_at)
    return applied + _drain_pass()


def _drain_pass() -> int:
    applied = 0
    while True:
        ids = db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None), StripeEvent.attempts < DRAIN_MAX_ATTEMPTS)
            .order_by(StripeEvent.created, StripeEvent.id)
            .limit(500)
        ).all()
        db.session.rollback()
        progressed = 0
        for row_id in ids:
            try:
                outcome = apply(row_id, skip_locked=True)
            except NotYet as exc:
                log.info("Stripe event row %s waits: %s", row_id, exc)
                continue
            except Exception:  # noqa: BLE001 - one bad event must not stop the others
                log.exception("Stripe event row %s failed", row_id)
                continue
            if outcome != "missing or busy":
                progressed += 1
        applied += progressed
        if len(ids) < 500 or not progressed:
            return applied


DRAIN_MAX_ATTEMPTS = 3


# After this many failed tries the periodic sweep leaves an event for a person to look
# at (``flask billing replay`` still applies it); the log said why each time.
SWEEP_MAX_ATTEMPTS = 20


def sweep(*, older_than: timedelta = SWEEP_AFTER, max_attempts: int | None = SWEEP_MAX_ATTEMPTS) -> int:
    """Apply inbox rows that no job applied (queued while Redis was down, lost worker),
    the least tried first."""
    stmt = select(StripeEvent.id).where(
        StripeEvent.processed_at.is_(None), StripeEvent.received_at <= utcnow() - older_than
    )
    if max_attempts is not None:
        stmt = stmt.where(StripeEvent.attempts < max_attempts)
    ids = db.session.scalars(
        stmt.order_by(StripeEvent.attempts, StripeEvent.created, StripeEvent.id).limit(1000)
    ).all()
    db.session.rollback()
    applied = 0
    for row_id in ids:
        try:
            apply(row_id)
            applied += 1
        except Exception:  # noqa: BLE001 - one bad event must not stop the others
            log.exception("Stripe event row %s failed in the sweep", row_id)
    return applied


def sweep_job() -> int:
    """Periodic job: the sweep with its default delay (rows older than two minutes)."""
    return sweep()


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


def _client_for(obj: dict) -> Client | None:
    metadata = obj.get("metadata") or {}
    client_id = parse_int(metadata.get("client_id"), min=1)
    if client_id is not None:
        return db.session.get(Client, client_id)
    sub_id = obj.get("subscription")
    if isinstance(sub_id, dict):
        sub_id = sub_id.get("id")
    if sub_id:
        sub = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == sub_id))
        if sub is not None:
            return db.session.get(Client, sub.client_id)
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if customer:
        return db.session.scalar(select(Client).where(Client.stripe_customer_id == customer))
    return None


def _locked(client: Client) -> Client:
    """Lock the client row before its payments (the order staff requests use too)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Client.id).where(Client.id == client.id).with_for_update())
    return client


def _apply_event(event) -> str:
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return "ignored"
    return handler(event, event["data"]["object"])


PAID_STATUSES = ("paid", "no_payment_required")


def _on_checkout_completed(event, session) -> str:
    """A Checkout finished. Card payments are paid now; boleto and PIX are paid later
    (``checkout.session.async_payment_succeeded``) or never (``..._failed``)."""
    client = _client_for(session)
    if client is None:
        return "unknown client"
    metadata = session.get("metadata") or {}
    paid = event["type"] == "checkout.session.async_payment_succeeded" or (
        event["type"] == "checkout.session.completed" and session.get("payment_status") in PAID_STATUSES
    )
    failed = event["type"] == "checkout.session.async_payment_failed"
    if metadata.get("kind") == "extra_pack":
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
    db.session.add(
        ExtraPack(
            reseller_id=client.reseller_id,
            client_id=client.id,
            conversations=conversations,
            source="stripe",
            stripe_checkout_id=session["id"],
        )
    )
    db.session.flush()  # the unique checkout id stops a concurrent second credit here
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(extra_balance=Client.extra_balance + conversations)
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        Payment(
            reseller_id=client.reseller_id,
            client_id=client.id,
            description=f"+{conversations} conversas extras",
            amount_cents=int(session.get("amount_total") or 0),
            payment_type=_method(metadata),
            status="paid",
            due_date=_day(event["created"]),
            paid_at=_moment(event["created"]),
            kind="extra_pack",
            stripe_checkout_id=session["id"],
            stripe_payment_intent_id=_intent(session),
        )
    )
    db.session.flush()
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
        if payment.status == "refunded":
            return "already refunded"
        if payment.status == "paid":
            if payment.stripe_checkout_id == session["id"]:
                return "invoice already paid"
            # Paid by transfer, or through another Checkout, before this one.
            record_second_payment(payment, _method(metadata), session["id"])
            return "invoice paid twice"
        settle(payment, _method(metadata), paid_at=_moment(event["created"]), checkout_id=session["id"])
        payment.stripe_payment_intent_id = _intent(session)
        return "invoice paid"
    if payment.status == "paid":
        return "invoice already paid"
    if failed:
        if payment.status == "pending":
            payment.status = "failed"
            db.session.flush()
            refresh_client_summary(client)
        audit.record("billing.checkout_failed", client, details={"payment_id": payment.id})
        return "invoice payment failed"
    # Boleto or PIX issued: the invoice waits for the money.
    payment.stripe_checkout_id = session["id"]
    payment.payment_type = _method(metadata)
    db.session.flush()
    refresh_client_summary(client)
    return "invoice awaiting payment"


def _intent(obj) -> str | None:
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent or None


def _method(metadata) -> str:
    method = metadata.get("method")
    return method if method in ("card", "boleto", "pix") else "card"


def _moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)


def _on_subscription(event, obj) -> str:
    if not _newer_than_mark(obj.get("id"), event):
        return "stale"
    client = _client_for(obj)
    if client is None:
        return "unknown client"
    sub = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == obj["id"]))
    if sub is None:
        plan_id = parse_int((obj.get("metadata") or {}).get("plan_id"), min=1)
        plan = (
            db.session.scalar(select(Plan).where(Plan.id == plan_id, Plan.reseller_id == client.reseller_id))
            if plan_id is not None
            else None
        )
        if plan is None:
            return "unknown plan"
        sub = Subscription(
            reseller_id=client.reseller_id,
            client_id=client.id,
            plan_id=plan_id,
            payment_method="stripe",
            stripe_subscription_id=obj["id"],
        )
        db.session.add(sub)
    deleted = event["type"] == "customer.subscription.deleted" or obj.get("status") == "canceled"
    sub.status = (
        "cancelled" if deleted else ("active" if obj.get("status") in ("active", "trialing") else "pending")
    )
    if obj.get("current_period_start"):
        sub.current_period_start = _day(obj["current_period_start"])
    if obj.get("current_period_end"):
        sub.current_period_end = _day(obj["current_period_end"])
    if deleted:
        sub.cancelled_at = utcnow()
    db.session.flush()
    refresh_client_summary(client)
    audit.record("billing.subscription_synced", client, details={"stripe_status": obj.get("status")})
    return f"subscription {sub.status}"


def _invoice_payment(obj, client: Client) -> Payment:
    payment = db.session.scalar(select(Payment).where(Payment.stripe_invoice_id == obj["id"]))
    if payment is None:
        sub_id = obj.get("subscription")
        sub = (
            db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == sub_id))
            if sub_id
            else None
        )
        payment = Payment(
            reseller_id=client.reseller_id,
            client_id=client.id,
            subscription_id=sub.id if sub else None,
            description=(obj.get("description") or "Fatura Stripe")[:200],
            amount_cents=int(obj.get("amount_due") or obj.get("amount_paid") or 0),
            payment_type="card",
            status="pending",
            due_date=_day(obj.get("due_date") or obj.get("created") or event_now()),
            stripe_invoice_id=obj["id"],
        )
        db.session.add(payment)
    return payment


def event_now() -> int:
    return int(datetime.now(UTC).timestamp())


def _on_invoice(event, obj) -> str:
    if not _newer_than_mark(obj.get("id"), event):
        return "stale"
    client = _client_for(obj)
    if client is None:
        return "unknown client"
    _locked(client)
    payment = _invoice_payment(obj, client)
    kind = event["type"]
    if kind == "invoice.paid":
        transitions = (obj.get("status_transitions") or {}).get("paid_at")
        if isinstance(obj.get("charge"), str):
            payment.stripe_charge_id = obj["charge"]
        if payment.status == "refunded":
            return "already refunded"  # the refund came in first: it stays refunded
        settle(payment, payment.payment_type, paid_at=_moment(transitions or event["created"]))
    elif payment.status != "paid":
        payment.status = "failed" if kind == "invoice.payment_failed" else "pending"
        db.session.flush()
        refresh_client_summary(client)
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
    if payment.status == "refunded":
        return "already refunded"
    client = _locked(db.session.get(Client, payment.client_id))
    payment.status = "refunded"
    taken_back = 0
    if payment.kind == "extra_pack" and payment.stripe_checkout_id:
        pack = db.session.scalar(
            select(ExtraPack).where(ExtraPack.stripe_checkout_id == payment.stripe_checkout_id)
        )
        if pack is not None:
            db.session.refresh(client)
            taken_back = min(pack.conversations, client.extra_balance)
            client.extra_balance -= taken_back
    db.session.flush()
    refresh_client_summary(client)
    audit.record(
        "billing.charge_refunded", client, details={"charge": obj["id"], "conversations": taken_back}
    )
    return "payment refunded"


def _day(timestamp: int) -> date:
    """The calendar day in Brazil of a Stripe timestamp (due dates are Brazilian days)."""
    return datetime.fromtimestamp(int(timestamp), UTC).astimezone(LOCAL_TZ).date()


HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_checkout_completed,
    "checkout.session.async_payment_failed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "invoice.paid": _on_invoice,
    "invoice.payment_failed": _on_invoice,
    "invoice.payment_action_required": _on_invoice,
    "charge.refunded": _on_charge_refunded,
}

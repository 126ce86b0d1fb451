"""The Stripe webhook's intake: verify the signature on the raw body, check the
event's shape, store it in the ``stripe_events`` inbox (unique event id) and queue a
drain, all before the endpoint answers 2xx. Applying it is the inbox's job
(:mod:`billing.stripe.inbox`); if that job is lost the sweeper finds the row."""

from __future__ import annotations

import json

import stripe
from sqlalchemy import Engine, text

from core import jobs
from core.extensions import db
from core.timeutil import utcnow
from core.validation import MAX_DB_INT

TOLERANCE_SECONDS = 300
MAX_BODY = 1024 * 1024
DRAIN_KEY = "stripe-inbox"
DRAIN_JOB = dict(func="billing.tasks.drain_stripe_inbox", queue="billing", unique_key=DRAIN_KEY, retries=3)


class NotAnEvent(ValueError):
    """The body is not a verified, readable Stripe event; the message says which."""


def verify(raw: bytes, signature: str, secret: str) -> dict:
    """The event in ``raw``, after Stripe's own check of the signature on the raw body
    (no StripeObject is built: the verified bytes are read as plain data)."""
    try:
        stripe.WebhookSignature.verify_header(
            raw.decode("utf-8"), signature, secret, tolerance=TOLERANCE_SECONDS
        )
        # From text: json.loads(bytes) would also read UTF-16/32, whose NUL bytes the
        # NUL guard (core.validation) does not see. A raw NUL in text is no JSON.
        event = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError, stripe.SignatureVerificationError):
        raise NotAnEvent("invalid signature") from None
    if not well_formed(event):
        raise NotAnEvent("not an event")
    return event


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

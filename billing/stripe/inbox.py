"""The inbox of stored Stripe events: apply each row once, in a drain job queued by
the intake, or by the periodic sweep for rows a lost job left behind.

Applying is idempotent per event (the row is locked and marked) and per object (an
older event never overwrites what a newer one set, see :mod:`billing.stripe.handlers`).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select

from billing.models import StripeEvent
from billing.stripe.handlers import NotYet, apply_event
from billing.stripe.intake import DRAIN_KEY, well_formed
from core import jobs
from core.extensions import db
from core.inbox_rows import MISSING_OR_BUSY, apply_once
from core.timeutil import utcnow

log = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=2)
DRAIN_MAX_ATTEMPTS = 3
# After this many failed tries the periodic sweep leaves an event for a person to look
# at (``flask billing replay`` still applies it); the log said why each time.
SWEEP_MAX_ATTEMPTS = 20
BATCH = 500

# What :func:`apply` says besides a handler's outcome.
UNPROCESSABLE = "unprocessable"
ALREADY_APPLIED = "already applied"


def apply(row_id: int, *, skip_locked: bool = False) -> str:
    """Apply one inbox row, once. Returns what happened (for logs and tests). With
    ``skip_locked``, a row another worker is applying right now is left to it."""
    return apply_once(StripeEvent, row_id, _apply_row, already=ALREADY_APPLIED, skip_locked=skip_locked)


def _apply_row(row: StripeEvent) -> str:
    try:
        event = json.loads(row.payload)
    except (ValueError, RecursionError):
        event = None
    if not well_formed(event):
        # Stored before the intake checked the shape: no handler can read it and no
        # retry would change that, so it is closed at once (a person can look at it).
        log.warning("Stripe event row %s is not a readable event: left unapplied", row.id)
        return UNPROCESSABLE
    return apply_event(event)


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
            .limit(BATCH)
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
            if outcome != MISSING_OR_BUSY:
                progressed += 1
        applied += progressed
        if len(ids) < BATCH or not progressed:
            return applied


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

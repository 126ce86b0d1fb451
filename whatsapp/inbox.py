"""The inbox of stored WhatsApp events: each row applied once, in its client's scope, by
the drain job the intake queues, or by the periodic sweep for rows a lost job left.

On PostgreSQL the drain takes rows with ``FOR UPDATE SKIP LOCKED``
(``core.inbox_rows.apply_next``), so two workers drain side by side, each row in its own
transaction; SQLite (the demo) has no ``SKIP LOCKED``: rows are taken one by one."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from core import jobs
from core.extensions import db
from core.inbox_rows import MISSING_OR_BUSY, RowFailed, apply_next, apply_once
from core.scope import scoped
from core.timeutil import utcnow
from whatsapp.applying import apply_event
from whatsapp.intake import DRAIN_KEY
from whatsapp.models import WhatsAppEvent

log = logging.getLogger(__name__)

ALREADY_APPLIED = "already applied"
DRAIN_MAX_ATTEMPTS = 3
SWEEP_MAX_ATTEMPTS = 20
SWEEP_AFTER = timedelta(minutes=1)
MAX_ROWS = 2000


def _work(row: WhatsAppEvent) -> str:
    # The row's own client only: whatever the event says, nothing of another tenant is
    # reachable (row-level security on PostgreSQL).
    with scoped(row.reseller_id, row.client_id):
        return apply_event(row)


def apply(row_id: int, *, skip_locked: bool = False) -> str:
    """Apply one row, once: what it did (for logs and tests)."""
    return apply_once(WhatsAppEvent, row_id, _work, already=ALREADY_APPLIED, skip_locked=skip_locked)


def drain() -> int:
    """Job: apply every row not applied yet (fewer than ``DRAIN_MAX_ATTEMPTS`` tries), oldest
    first; then a last pass for rows stored while it ran (see ``core.jobs``)."""
    released_at = jobs.release_unique(DRAIN_KEY)
    failed: set[int] = set()  # tried once by this job: left to the sweep
    done = _pass(failed)
    jobs.wait_for_final_pass(released_at)
    return done + _pass(failed)


def _pass(failed: set[int]) -> int:
    done = 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    while done < MAX_ROWS:
        if postgres:
            criteria = [WhatsAppEvent.attempts < DRAIN_MAX_ATTEMPTS, WhatsAppEvent.id.not_in(failed or {-1})]
            try:
                found = apply_next(WhatsAppEvent, criteria, _work)
            except RowFailed as failure:
                log.warning("WhatsApp event %s failed: left to the sweep", failure.row_id, exc_info=True)
                failed.add(failure.row_id)
                continue
            if found is None:
                return done
        else:
            row_id = db.session.scalar(
                select(WhatsAppEvent.id)
                .where(
                    WhatsAppEvent.processed_at.is_(None),
                    WhatsAppEvent.attempts < DRAIN_MAX_ATTEMPTS,
                    WhatsAppEvent.id.not_in(failed or {-1}),
                )
                .order_by(WhatsAppEvent.id)
                .limit(1)
            )
            if row_id is None:
                db.session.rollback()
                return done
            try:
                apply(row_id)
            except Exception:  # noqa: BLE001 - recorded on its row; the others go on
                log.warning("WhatsApp event %s failed: left to the sweep", row_id, exc_info=True)
                failed.add(row_id)
                continue
        done += 1
    jobs.enqueue_committed(
        **{"func": "whatsapp.tasks.drain_events", "queue": "whatsapp", "unique_key": DRAIN_KEY}
    )
    return done


def sweep(*, older_than: timedelta = SWEEP_AFTER) -> int:
    """Apply rows no job applied (Redis was down, a worker died, a status came before
    its message's id was stored), the least tried first."""
    ids = db.session.scalars(
        select(WhatsAppEvent.id)
        .where(
            WhatsAppEvent.processed_at.is_(None),
            WhatsAppEvent.received_at <= utcnow() - older_than,
            WhatsAppEvent.attempts < SWEEP_MAX_ATTEMPTS,
        )
        .order_by(WhatsAppEvent.attempts, WhatsAppEvent.id)
        .limit(1000)
    ).all()
    db.session.rollback()
    applied = 0
    for row_id in ids:
        try:
            if apply(row_id, skip_locked=True) != MISSING_OR_BUSY:
                applied += 1
        except Exception:  # noqa: BLE001 - one bad event must not stop the others
            log.warning("WhatsApp event %s failed in the sweep", row_id, exc_info=True)
    return applied

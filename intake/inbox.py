"""Storing a received message: the raw bytes in ``core.storage``, a row in
``inbound_messages``, and the processing job queued once the row is committed. One
function for both doors (the webhook and the SMTP listener), so that a message is
durable before its sender is told it arrived.

Rows a lost job left behind (Redis down, a worker died) are found by :func:`pending`,
which the periodic sweep (``intake.tasks.sweep_inbox``) processes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import delete, select

from core import jobs
from core.extensions import db
from core.scope import bypass
from core.storage import get_storage
from core.timeutil import utcnow
from intake.models import InboundMessage

# The largest message accepted (issue 14), by either door.
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
BYPASS = "mail-intake"
PROCESS_JOB = "intake.tasks.process_message"
# The processing job is coalesced: while one waits, a message stored meanwhile queues
# none (the job drains every message no job has tried yet: intake.draining).
DRAIN_KEY = "mail-intake"
SWEEP_AFTER = timedelta(minutes=2)
# After this many failed tries the sweep leaves a message for a person to look at.
MAX_ATTEMPTS = 10
MAX_ADDRESS = 320
MAX_RECIPIENTS = 100


class TooLarge(ValueError):
    """The message is over :data:`MAX_MESSAGE_BYTES`; nothing is kept."""


class _Hashing:
    """A reader that counts and hashes what passes through it, and refuses to pass on
    more than the limit."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.size = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.size += len(chunk)
        if self.size > MAX_MESSAGE_BYTES:
            raise TooLarge("message over the size limit")
        self.digest.update(chunk)
        return chunk


def _storage_key() -> str:
    return f"intake/{utcnow():%Y/%m/%d}/{secrets.token_hex(16)}"


def _addresses(values: Iterable[str]) -> list[str]:
    return [v.strip()[:MAX_ADDRESS] for v in list(values)[:MAX_RECIPIENTS] if v and v.strip()]


def store(
    raw: BinaryIO,
    *,
    via: str,
    envelope_sender: str | None = None,
    envelope_recipients: Iterable[str] = (),
) -> int:
    """Keep the message read from ``raw`` and queue its processing; returns the row id.

    The bytes are written to storage first, then the row is committed (the job is queued
    after that commit). A failure on the way removes what was written: the caller answers
    an error and the sender tries again.
    """
    key = _storage_key()
    reader = _Hashing(raw)
    storage = get_storage()
    storage.put(key, reader, "message/rfc822")
    try:
        with bypass(BYPASS):
            row = InboundMessage(
                storage_key=key,
                size=reader.size,
                sha256=reader.digest.hexdigest(),
                received_via=via,
                envelope_sender=(envelope_sender or "").strip()[:MAX_ADDRESS] or None,
                envelope_recipients=_addresses(envelope_recipients),
                received_at=utcnow(),
            )
            db.session.add(row)
            db.session.flush()
            row_id = row.id
            jobs.enqueue(PROCESS_JOB, row_id, queue="mail", unique_key=DRAIN_KEY)
            db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(key)
        raise
    return row_id


def pending(*, older_than: timedelta = SWEEP_AFTER, limit: int = 500) -> list[int]:
    """Ids of stored messages no job processed, received before ``older_than`` ago."""
    with bypass(BYPASS):
        ids = db.session.scalars(
            select(InboundMessage.id)
            .where(
                InboundMessage.processed_at.is_(None),
                InboundMessage.received_at <= utcnow() - older_than,
                InboundMessage.attempts < MAX_ATTEMPTS,
            )
            .order_by(InboundMessage.attempts, InboundMessage.received_at, InboundMessage.id)
            .limit(limit)
        ).all()
        db.session.rollback()
    return list(ids)


# Messages that reached no reseller (unroutable, duplicates, rate-limited, a machine's)
# are kept this long for the operator to look into, then removed with their raw bytes:
# nobody else ever reads them, and a 30 MB message a day is no reason to fill the disk.
UNROUTED_RETENTION = timedelta(days=30)


def expire_unrouted(*, older_than: timedelta = UNROUTED_RETENTION, batch: int = 500) -> int:
    """Remove processed messages of no reseller received before ``older_than`` ago; how many."""
    removed = 0
    storage = get_storage()
    with bypass(BYPASS):
        while True:
            rows = db.session.execute(
                select(InboundMessage.id, InboundMessage.storage_key)
                .where(
                    InboundMessage.reseller_id.is_(None),
                    InboundMessage.processed_at.is_not(None),
                    InboundMessage.received_at <= utcnow() - older_than,
                )
                .order_by(InboundMessage.id)
                .limit(batch)
            ).all()
            if not rows:
                db.session.rollback()
                return removed
            for _row_id, key in rows:
                storage.delete(key)
            db.session.execute(delete(InboundMessage).where(InboundMessage.id.in_([r[0] for r in rows])))
            db.session.commit()
            removed += len(rows)

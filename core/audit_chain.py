"""Tamper evidence of the audit log: each reseller's events form a hash chain.

Every event gets the next ``seq`` of its chain (one chain per reseller, chain 0 for the
platform's own events), the ``digest`` of the event before it (``prev_digest``) and its
own ``digest``. Editing a row's fields, or deleting a row, breaks the link at that row;
``flask --app wsgi audit verify`` finds it (and a deleted last row by the chain's head,
``audit_chain_heads``, which keeps the last seq and digest).

Two digest formats, the row's ``digest_version`` says which:

- version 1 (rows written before migration 0041): SHA-256 over a canonical JSON of the
  event's fields, its ``seq`` and ``prev_digest``;
- version 2: ``body = sha256(canonical JSON of the fields, without seq and prev_digest)``,
  computed in Python, and ``digest = sha256(prev_digest + ":" + seq + ":" + body)``,
  which PostgreSQL computes itself in the statement that moves the head on and writes
  the event (``core.audit_link``): the writer needs neither the seq nor the previous
  digest before that statement, so writing an event is one round trip. ``prev_digest``
  is hex and ``seq`` digits: the text hashed is unambiguous. The body covers the
  reseller, so an event cannot be moved to another chain; the outer hash, its place.

The verifier checks each row by its own version, so one chain holds both.

Personal data (ip, user agent, actor label, and any text in the details but that of a
few keys that only say what kind of thing happened) enters the digest only through
``personal_digest``, a salted SHA-256 of it: scrubbing it when a client is purged
(``scrub``) clears the data and the salt but keeps that digest, so the chain still
verifies and the digest cannot be reversed by guessing e-mails. While a row still
carries its personal data, the verifier checks it against ``personal_digest`` too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from core.extensions import db
from core.models import AuditChainHead, AuditEvent

# The chain of the platform's own events (no reseller).
PLATFORM_CHAIN = 0
# Keys of ``details`` (at any depth) whose text is never personal: what kind of thing
# happened. Any other text in details (names, e-mails, domains, addresses, subjects...)
# may be personal, so it enters the digest only through ``personal_digest``.
PUBLIC_TEXT_KEYS = frozenset(
    {
        "reason",
        "format",
        "method",
        "path",
        "permission",
        "kind",
        "status",
        "state",
        "source",
        "visibility",
        "payment_type",
        "stripe_status",
        "effect",
        "access",
        "rule",
        "decision",
        "priority",
    }
)
# The digest format new events are written with (``digest_version``); a new format
# gets a new number and old rows keep theirs.
VERSION = 2


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def redact(value, key: str | None = None):
    """``value`` (details) with every text that may be personal replaced by None: all
    text but that of :data:`PUBLIC_TEXT_KEYS`. Numbers, booleans and the shape stay."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, key) for item in value]
    if isinstance(value, str) and key not in PUBLIC_TEXT_KEYS:
        return None
    return value


def _stored(details) -> dict:
    # What the JSON column gives back (tuples as lists...), so the digest covers that.
    return json.loads(canonical(details or {}))


def personal_of(event: AuditEvent) -> dict:
    return {
        "ip": event.ip,
        "user_agent": event.user_agent,
        "actor_label": event.actor_label,
        "details": _stored(event.details),
    }


def personal_digest(salt: str, event: AuditEvent) -> str:
    return _sha(salt + canonical(personal_of(event)))


def _fields(event: AuditEvent) -> dict:
    return {
        "reseller_id": event.reseller_id,
        "client_id": event.client_id,
        "actor_kind": event.actor_kind,
        "actor_account_id": event.actor_account_id,
        "subject_account_id": event.subject_account_id,
        "api_client_id": event.api_client_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": redact(_stored(event.details)),
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "personal_digest": event.personal_digest,
    }


def event_digest_v1(event: AuditEvent, prev_digest: str) -> str:
    """Version 1: one hash over the fields, the seq and the previous digest."""
    return _sha(canonical({"v": 1, **_fields(event), "seq": event.seq, "prev_digest": prev_digest}))


def body_digest(event: AuditEvent) -> str:
    """Version 2's inner hash: the event's fields without its place in the chain."""
    return _sha(canonical({"v": 2, **_fields(event)}))


def link_digest(prev_digest: str, seq: int, body: str) -> str:
    """Version 2's digest: the body chained at ``seq`` after ``prev_digest`` (the same
    text ``core.audit_link`` hashes in SQL)."""
    return _sha(f"{prev_digest}:{seq}:{body}")


def event_digest(event: AuditEvent, prev_digest: str) -> str:
    """The digest ``event`` must hold after ``prev_digest``, by its ``digest_version``."""
    if event.digest_version == 1:
        return event_digest_v1(event, prev_digest)
    if event.digest_version == 2:  # noqa: PLR2004 - the format's number
        return link_digest(prev_digest, event.seq, body_digest(event))
    return ""  # no such format: the row was edited


def is_scrubbed(event: AuditEvent) -> bool:
    return (
        event.personal_salt is None
        and event.ip is None
        and event.user_agent is None
        and event.actor_label is None
        and _stored(event.details) == redact(_stored(event.details))
    )


def scrub(event: AuditEvent) -> None:
    """Remove ``event``'s personal data; its digests stay, so the chain still verifies."""
    event.ip = None
    event.user_agent = None
    event.actor_label = None
    event.personal_salt = None
    event.details = redact(_stored(event.details))


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain."""

    reseller_id: int
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    chain: int
    count: int
    broken: Break | None


def chains(reseller_id: int | None = None) -> list[int]:
    if reseller_id is not None:
        return [reseller_id]
    return list(db.session.scalars(select(AuditChainHead.reseller_id).order_by(AuditChainHead.reseller_id)))


def _events(key: int, batch: int) -> Iterator[AuditEvent]:
    # Keyset batches: a chain of millions never sits in memory at once.
    where = AuditEvent.reseller_id.is_(None) if key == PLATFORM_CHAIN else AuditEvent.reseller_id == key
    after = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent)
            .where(where, AuditEvent.seq.is_not(None), AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(batch)
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return
        after = rows[-1].seq
        for row in rows:
            yield row
            db.session.expunge(row)


def _personal_data_holds(event: AuditEvent) -> bool:
    """The row's personal data is the one its digest was made of, or it was scrubbed."""
    if event.personal_salt is None:
        return is_scrubbed(event)
    return personal_digest(event.personal_salt, event) == event.personal_digest


def verify(key: int, *, batch: int = 2000) -> Verdict:
    """Walk chain ``key`` in order. The first remaining row is the anchor: its
    ``prev_digest`` is trusted, since the retention purge deletes the oldest rows
    (``seq`` need not start at 1). Every later row must follow its predecessor, match
    its digests, and the last must be the chain head's."""
    count = 0
    seq = prev = None
    for event in _events(key, batch):
        count += 1
        if seq is not None and event.seq != seq + 1:
            return Verdict(key, count, Break(key, seq + 1, None, "missing"))
        if prev is not None and event.prev_digest != prev:
            return Verdict(key, count, Break(key, event.seq, event.id, "previous digest differs"))
        if event_digest(event, event.prev_digest or "") != event.digest:
            return Verdict(key, count, Break(key, event.seq, event.id, "digest differs"))
        if not _personal_data_holds(event):
            return Verdict(key, count, Break(key, event.seq, event.id, "personal data differs"))
        seq, prev = event.seq, event.digest
    head = db.session.get(AuditChainHead, key)
    if head is not None and count and (head.seq != seq or head.digest != prev):
        # Rows at the end of the chain are gone (or the head was moved by hand).
        return Verdict(key, count, Break(key, seq + 1, None, "missing"))
    return Verdict(key, count, None)

"""Tamper evidence of the audit log: each reseller's events form a hash chain.

Every event gets the next ``seq`` of its chain (one chain per reseller, chain 0 for the
platform's own events), the ``digest`` of the event before it (``prev_digest``) and its
own ``digest``: SHA-256 over a canonical JSON of its fields and ``prev_digest``. Editing a
row's fields, or deleting a row, breaks the link at that row; ``flask --app wsgi audit
verify`` finds it.

Personal data (ip, user agent, actor label, and any text in the details but that of a
few keys that only say what kind of thing happened) enters the digest only through
``personal_digest``, a salted SHA-256 of it: scrubbing it when a client is purged
(``scrub``) clears the data and the salt but keeps that digest, so the chain still
verifies and the digest cannot be reversed by guessing e-mails. While a row still
carries its personal data, the verifier checks it against ``personal_digest`` too.

Writing an event costs one UPDATE of the chain's head row (``audit_chain_heads``: its
row lock, the next seq and the previous digest in one round trip), done as the
transaction commits, after everything else it changed is written (``core.audit``): the
head's lock is its last lock, so two writers never wait for each other's rows in
opposite orders. The head's digest follows the inserted rows by a trigger (and an
explicit UPDATE when the chain's last event was written by an earlier flush). Concurrent
writers of one reseller wait for each other's commit, so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.extensions import db
from core.models import AuditChainHead, AuditEvent
from core.states import ActorKind
from core.timeutil import utcnow

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
# Bumped if the canonical form ever changes (a new field): old rows keep theirs.
VERSION = 1


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


def event_digest(event: AuditEvent, prev_digest: str) -> str:
    fields = {
        "v": VERSION,
        "reseller_id": event.reseller_id,
        "seq": event.seq,
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
        "prev_digest": prev_digest,
    }
    return _sha(canonical(fields))


def is_scrubbed(event: AuditEvent) -> bool:
    return (
        event.personal_salt is None
        and event.ip is None
        and event.user_agent is None
        and event.actor_label is None
        and _stored(event.details) == redact(_stored(event.details))
    )


def _advance_head(connection, key: int, count: int) -> tuple[int, str]:
    """Lock chain ``key``'s head and move it ``count`` links on, in one statement; the
    seq and digest it had. (Its digest follows the inserted events: migration 0032's
    trigger ``audit_chain_follow`` copies the digest of the event at the head's seq.)"""
    advance = (
        update(AuditChainHead)
        .where(AuditChainHead.reseller_id == key)
        .values(seq=AuditChainHead.seq + count)
        .returning(AuditChainHead.seq, AuditChainHead.digest)
    )
    row = connection.execute(advance).first()
    if row is None:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            insert(AuditChainHead).values(reseller_id=key, seq=0, digest="").on_conflict_do_nothing()
        )
        row = connection.execute(advance).first()
    return row.seq - count, row.digest


def link(session, events: list[AuditEvent]) -> None:
    """Give ``events`` (new, or written by an earlier flush without it) their place in
    their chains: each chain's head is locked and moved on by one UPDATE (in key order:
    no deadlock between two writers), held until the transaction ends."""
    by_chain: dict[int, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.reseller_id or PLATFORM_CHAIN, []).append(event)
    connection = session.connection()
    for key in sorted(by_chain):
        chained = by_chain[key]
        seq, digest = _advance_head(connection, key, len(chained))
        for event in chained:
            seq += 1
            # The values the row will hold, so the digest covers what is stored.
            event.created_at = event.created_at or utcnow()
            event.actor_kind = event.actor_kind or ActorKind.SYSTEM
            event.details = event.details or {}
            salt = secrets.token_hex(16)
            event.personal_salt = salt
            event.personal_digest = personal_digest(salt, event)
            event.seq = seq
            event.prev_digest = digest
            digest = event.digest = event_digest(event, digest)
        if inspect(chained[-1]).persistent:
            # Its row is updated, not inserted: the head's trigger does not see it.
            connection.execute(
                update(AuditChainHead).where(AuditChainHead.reseller_id == key).values(digest=digest)
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

"""Writing audit events into their chain (``core.audit_chain`` explains the digests).

``core.audit`` calls :func:`link` as the transaction commits, after everything else it
changed is written, so the chain head's row lock is the transaction's last lock: two
writers never wait for each other's rows in opposite orders (a deadlock). Concurrent
writers of one reseller wait for each other's commit at the head, so the chain never
forks (and ``ix_audit_events_chain``, unique on (reseller_id, seq), guards it again).

On PostgreSQL each new event is one statement, one round trip: the body digest is
computed in Python before it, and the database moves the head on and inserts the event
with its place::

    WITH head AS (UPDATE audit_chain_heads SET seq = seq + 1, prev_digest = digest,
                  digest = sha256(digest || ':' || seq + 1 || ':' || :body)
                  WHERE reseller_id = :key RETURNING seq, prev_digest, digest)
    INSERT INTO audit_events (...) SELECT ..., head.seq, head.prev_digest, head.digest
    FROM head RETURNING id

(every SET expression of an UPDATE reads the old row, so ``prev_digest`` is the old
digest). A chain's first event finds no head: it is created (ON CONFLICT DO NOTHING)
and the statement runs again. Several events of one chain: one statement each, in
order. The inserted events become persistent objects of the session with their id,
seq and digests, as if the ORM had inserted them.

An event an earlier flush already wrote (``core.audit._note_unchained``) is given its
place by the head's UPDATE and then an UPDATE of its row (two round trips, a rare path).
SQLite has no SHA-256 in SQL: there the head moves on by the chain's count, the digests
are computed in Python and the ORM's flush writes the events (one writer at a time).
"""

from __future__ import annotations

import secrets

from sqlalchemy import String, bindparam, inspect, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.audit_chain import PLATFORM_CHAIN, VERSION, body_digest, link_digest, personal_digest
from core.models import AuditChainHead, AuditEvent
from core.states import ActorKind
from core.timeutil import utcnow

# The events this transaction's statements inserted (``core.audit`` drops them from the
# session if it rolls back, as the ORM drops the pending objects it had inserted).
INSERTED = "audit_inserted_events"
HEADS = AuditChainHead.__table__
EVENTS = AuditEvent.__table__
# The columns an event's INSERT takes from Python; the chain's come from the head.
VALUE_COLUMNS = (
    "reseller_id",
    "client_id",
    "actor_kind",
    "actor_account_id",
    "subject_account_id",
    "api_client_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "details",
    "ip",
    "user_agent",
    "created_at",
    "personal_digest",
    "personal_salt",
)


def link(session, written: list[AuditEvent], new: list[AuditEvent]) -> None:
    """Give the events their place in their chains, chain by chain in key order (two
    writers of several chains lock the heads in the same order). ``written``: events an
    earlier flush wrote without it (updated); ``new``: events outside the session, not
    written yet (inserted here on PostgreSQL, added back for the ORM's flush on SQLite)."""
    by_chain: dict[int, list[AuditEvent]] = {}
    for event in [*written, *new]:
        _prepare(event)
        by_chain.setdefault(event.reseller_id or PLATFORM_CHAIN, []).append(event)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for key in sorted(by_chain):
            _link_in_python(connection, key, by_chain[key])
        session.add_all(new)
        return
    for key in sorted(by_chain):
        for event in by_chain[key]:
            if inspect(event).persistent:
                _place_written(connection, key, event)
            else:
                _insert(connection, key, event)
                make_transient_to_detached(event)
                session.add(event)
                session.info.setdefault(INSERTED, []).append(event)


def _prepare(event: AuditEvent) -> None:
    # The values the row will hold, so the digest covers what is stored.
    event.created_at = event.created_at or utcnow()
    event.actor_kind = event.actor_kind or ActorKind.SYSTEM
    event.details = event.details or {}
    salt = secrets.token_hex(16)
    event.personal_salt = salt
    event.personal_digest = personal_digest(salt, event)
    event.digest_version = VERSION


# Moves chain :chain's head one link on (locking its row) and returns the new link's
# seq, prev_digest and digest: version 2 of :body, hashed by PostgreSQL. Every SET
# expression reads the old row: prev_digest is the old digest.
ADVANCE_SQL = """UPDATE audit_chain_heads SET seq = seq + 1, prev_digest = digest,
    digest = encode(sha256(convert_to(digest || ':' || CAST(seq + 1 AS text) || ':' || CAST(:body AS text),
                                      'UTF8')), 'hex')
WHERE reseller_id = :chain
RETURNING seq, prev_digest, digest"""


def _sql_type(type_) -> str:
    # Text, not varchar(n): a cast would cut a text too long, the INSERT refuses it.
    return "text" if isinstance(type_, String) else type_.compile(postgresql.dialect())


def _insert_sql() -> str:
    """The head's UPDATE and the event's INSERT in one statement: the event's values as
    parameters (``:v_<column>``, cast: PostgreSQL takes an untyped NULL in a SELECT
    list for text), its place from the head."""
    values = ", ".join(f"CAST(:v_{name} AS {_sql_type(EVENTS.c[name].type)})" for name in VALUE_COLUMNS)
    return (
        f"WITH head AS ({ADVANCE_SQL})\n"  # noqa: S608 - column names and types, no input
        f"INSERT INTO audit_events ({', '.join(VALUE_COLUMNS)}, seq, prev_digest, digest, digest_version)\n"
        f"SELECT {values}, head.seq, head.prev_digest, head.digest, {VERSION} FROM head\n"
        "RETURNING id, seq, prev_digest, digest"
    )


# Text built once: a statement of SQLAlchemy constructs would be walked for its cache
# key on every event (a third of a millisecond); the parameters keep their column types
# (JSON details, timestamps).
ADVANCE = text(ADVANCE_SQL)
INSERT_EVENT = text(_insert_sql()).bindparams(
    *(bindparam(f"v_{name}", type_=EVENTS.c[name].type) for name in VALUE_COLUMNS)
)


def _create_head(connection, key: int) -> None:
    insert_head = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert_head(HEADS).values(reseller_id=key, seq=0, digest="", prev_digest="").on_conflict_do_nothing()
    )


def _run(connection, key: int, statement, params: dict):
    """The statement's row; a chain without a head yet gets one and runs it again."""
    row = connection.execute(statement, params).first()
    if row is None:
        _create_head(connection, key)
        row = connection.execute(statement, params).first()
    return row


def _insert(connection, key: int, event: AuditEvent) -> None:
    params = {f"v_{name}": getattr(event, name) for name in VALUE_COLUMNS}
    row = _run(connection, key, INSERT_EVENT, {**params, "chain": key, "body": body_digest(event)})
    event.id = row.id
    event.seq, event.prev_digest, event.digest = row.seq, row.prev_digest, row.digest


def _place_written(connection, key: int, event: AuditEvent) -> None:
    row = _run(connection, key, ADVANCE, {"chain": key, "body": body_digest(event)})
    chain = {"seq": row.seq, "prev_digest": row.prev_digest, "digest": row.digest}
    stored = {name: getattr(event, name) for name in ("personal_salt", "personal_digest", "digest_version")}
    connection.execute(update(EVENTS).where(EVENTS.c.id == event.id).values(**chain, **stored))
    # The object holds what its row now holds. (A default ``_prepare`` filled in, say
    # empty details, is still a change: the commit's flush writes it.)
    for name, value in {**chain, **stored}.items():
        set_committed_value(event, name, value)


def _link_in_python(connection, key: int, chained: list[AuditEvent]) -> None:
    """SQLite: move the head on by the chain's count, then compute each link in Python;
    the ORM's flush writes the events (and updates those already written)."""
    count = len(chained)
    advance = (
        update(HEADS)
        .where(HEADS.c.reseller_id == key)
        .values(seq=HEADS.c.seq + count)
        .returning(HEADS.c.seq, HEADS.c.digest)
    )
    row = _run(connection, key, advance, {})
    seq, digest = row.seq - count, row.digest
    for event in chained:
        seq += 1
        event.seq, event.prev_digest = seq, digest
        digest = event.digest = link_digest(digest, seq, body_digest(event))
    last = chained[-1]
    connection.execute(
        update(HEADS)
        .where(HEADS.c.reseller_id == key)
        .values(digest=last.digest, prev_digest=last.prev_digest)
    )

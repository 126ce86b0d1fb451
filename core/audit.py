"""The audit log: who (and acting as whom) did what, when and from where."""

from __future__ import annotations

import logging

from flask import g, has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient

from core import audit_link
from core.extensions import db, limiter
from core.models import AuditEvent
from core.states import ActorKind
from core.timeutil import utcnow

logger = logging.getLogger(__name__)

# Refusals recorded after the refusing request's transaction ended (see ``refused``).
_REFUSED = "audit_refused_events"


def record(
    action: str,
    obj=None,
    *,
    details: dict | None = None,
    reseller_id: int | None = None,
    client_id: int | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction.

    Actor and subject come from the request (set by the auth layer): when staff act
    as a client user, ``actor`` is the staff account and ``subject`` the user. An API
    client acting sets ``g.api_client_id``. The event takes its place in its
    reseller's hash chain as the transaction commits (``core.audit_link``).
    """
    event = _build(action, obj, details, reseller_id, client_id, actor_label)
    db.session.add(event)
    return event


def _build(action, obj, details, reseller_id, client_id, actor_label) -> AuditEvent:
    event = AuditEvent(action=action, details=details or {}, created_at=utcnow())
    if obj is not None:
        event.object_type = obj.__tablename__
        event.object_id = str(obj.id) if getattr(obj, "id", None) is not None else None
        reseller_id = reseller_id or getattr(obj, "reseller_id", None)
        if client_id is None:
            client_id = obj.id if obj.__tablename__ == "clients" else getattr(obj, "client_id", None)
    if has_request_context():
        event.actor_account_id = g.get("actor_account_id")
        event.subject_account_id = g.get("subject_account_id")
        event.api_client_id = g.get("api_client_id")
        event.actor_label = actor_label or g.get("actor_label")
        event.actor_kind = actor_kind()
        event.ip = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:500]
        if reseller_id is None and g.get("reseller") is not None:
            reseller_id = g.reseller.id
    else:
        event.actor_label = actor_label or "system"
        event.actor_kind = ActorKind.SYSTEM
    event.reseller_id = reseller_id
    event.client_id = client_id
    return event


def actor_kind() -> ActorKind:
    """Who acts in this request: an API client, staff (acting as a user too), a client
    user, or nobody signed in."""
    if g.get("api_client_id") is not None:
        return ActorKind.API_CLIENT
    kind = g.get("actor_kind")
    if kind is not None and g.get("actor_account_id") is not None:
        return ActorKind(kind)
    return ActorKind.ANONYMOUS


def refused(action: str, obj=None, *, details: dict | None = None, **keys) -> None:
    """Record a refused or failed attempt even though the refusing request rolls back:
    the event is built now and written in its own short transaction once the request
    has ended (``init_app``'s teardown)."""
    pending = g.setdefault(_REFUSED, [])
    pending.append(_build(action, obj, details, keys.get("reseller_id"), keys.get("client_id"), None))


def _note_refusal(response):
    """Every 403 of a signed-in actor (a permission refused, wherever the check is) and
    every 429 (throttled) is recorded; the 429s at most once a minute per address and
    page, so a flood of refused requests does not fill the table."""
    signed_in = g.get("actor_account_id") is not None or g.get("api_client_id") is not None
    if response.status_code == 403 and signed_in and not g.get(_REFUSED):
        details = {"method": request.method, "path": request.path[:200]}
        if g.get("denied_permission"):
            details["permission"] = g.denied_permission
        refused("access.denied", details=details)
    elif response.status_code == 429 and g.get("reseller") is not None and _first_in_minute():
        refused("access.throttled", details={"method": request.method, "path": request.path[:200]})
    return response


def _first_in_minute() -> bool:
    key = f"audit-throttled/{request.remote_addr}/{request.endpoint}"
    try:
        return limiter.storage.incr(key, 60) == 1
    except Exception:  # the limiter's storage is down: record it anyway
        logger.warning("could not count throttled attempts", exc_info=True)
        return True


def _write_refused(_exc=None) -> None:
    pending = g.pop(_REFUSED, None)
    if not pending or g.get("reseller") is None:
        return
    # Whatever the request left uncommitted was going to be rolled back anyway.
    db.session.rollback()
    db.session.add_all(pending)
    try:
        db.session.commit()
    except Exception:  # never turn the refusal itself into a 500
        db.session.rollback()
        logger.exception("could not record a refused attempt")


# Events a flush before the commit wrote without their place in the chain yet.
_UNCHAINED = "audit_unchained_events"


def _new_events(session) -> list[AuditEvent]:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None]
    # In the order they were added (session.new is a set).
    return sorted(new, key=lambda obj: inspect(obj).insert_order)


def _note_unchained(session, _context, _instances) -> None:
    """A flush before the commit (autoflush, an id needed) writes new events as they
    are, visible to the transaction's own reads; the commit chains them."""
    new = _new_events(session)
    if new:
        session.info.setdefault(_UNCHAINED, []).extend(new)


def _chain_at_commit(session) -> None:
    """Chain the transaction's events as it commits, after everything else it changed
    is written: the chain head's row lock is then its last lock, so two writers never
    wait for each other's rows in opposite orders (a deadlock). The events not written
    yet are inserted with their place (``core.audit_link``); those an earlier flush
    wrote are updated."""
    if session.in_nested_transaction():  # a savepoint's release: not the commit yet
        return
    new = _new_events(session)
    for event in new:
        session.expunge(event)
    linked = False
    try:
        session.flush()
        # Rows a rolled-back savepoint took away are no longer persistent: left out.
        written = [e for e in session.info.pop(_UNCHAINED, []) if inspect(e).persistent and e.seq is None]
        if written or new:
            audit_link.link(session, written, new)
        linked = True
    finally:
        if not linked:  # back in the session, as they were, for the rollback to drop
            session.add_all([event for event in new if inspect(event).transient])


def _rolled_back(session) -> None:
    """The events inserted by ``core.audit_link``'s statement are persistent objects of
    the session, not pending ones the ORM would drop: a rollback makes them transient
    again, so no object claims a row that is not there."""
    for event in session.info.pop(audit_link.INSERTED, []):
        if event in session:
            session.expunge(event)
        make_transient(event)


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_UNCHAINED, None)
        session.info.pop(audit_link.INSERTED, None)


def init_app(app) -> None:
    if not sa_event.contains(Session, "before_commit", _chain_at_commit):
        sa_event.listen(Session, "before_flush", _note_unchained)
        sa_event.listen(Session, "before_commit", _chain_at_commit)
        sa_event.listen(Session, "after_rollback", _rolled_back)
        sa_event.listen(Session, "after_transaction_end", _transaction_ended)
    app.after_request(_note_refusal)
    app.teardown_request(_write_refused)

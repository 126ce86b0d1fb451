"""The audit log: who (and acting as whom) did what, when and from where."""

from __future__ import annotations

from flask import g, has_request_context, request

from core.extensions import db
from core.models import AuditEvent


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
    as a client user, ``actor`` is the staff account and ``subject`` the user.
    """
    event = AuditEvent(action=action, details=details or {})
    if obj is not None:
        event.object_type = obj.__tablename__
        event.object_id = str(obj.id) if getattr(obj, "id", None) is not None else None
        reseller_id = reseller_id or getattr(obj, "reseller_id", None)
        if client_id is None:
            client_id = obj.id if obj.__tablename__ == "clients" else getattr(obj, "client_id", None)
    if has_request_context():
        event.actor_account_id = g.get("actor_account_id")
        event.subject_account_id = g.get("subject_account_id")
        event.actor_label = actor_label or g.get("actor_label")
        event.ip = request.remote_addr
        event.user_agent = (request.user_agent.string or "")[:500]
        if reseller_id is None and g.get("reseller") is not None:
            reseller_id = g.reseller.id
    else:
        event.actor_label = actor_label or "system"
    event.reseller_id = reseller_id
    event.client_id = client_id
    db.session.add(event)
    return event

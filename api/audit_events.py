"""The ``audit-events`` resource: the reseller's audit log read with the panel's filters
(``reseller.audit_log.AuditFilters``), newest first, a page at a time after an event's
id; an event as JSON, with its place in the reseller's hash chain."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import tuple_

from api.conventions import iso
from api.problems import Problem
from core.extensions import db
from core.models import AuditEvent
from reseller.audit_log import FILTER_KEYS, AuditFilters, filtered

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def read_filters(args) -> AuditFilters:
    """The panel's filters from the query string; a value they refuse is a 422 naming it."""
    given = {k: str(args[k]) for k in FILTER_KEYS if args.get(k) not in (None, "")}
    if "acting_as" in args:
        given["acting_as"] = "1" if args["acting_as"] else ""
    filters = AuditFilters.from_args(given)
    if filters.errors:
        for name in given:
            alone = AuditFilters.from_args({name: given[name]})
            if alone.errors:
                raise Problem(422, "invalid_parameter", alone.errors[0], param=name)
        # Each alone is fine: the pair of dates is what fails ("from" after "to").
        raise Problem(422, "invalid_parameter", filters.errors[0], param="date_from")
    return filters


def list_page(reseller_id: int, filters: AuditFilters, limit: int, starting_after: int | None):
    """Up to ``limit`` events older than event ``starting_after``, and whether more follow."""
    stmt = filtered(reseller_id, filters)
    if starting_after is not None:
        anchor = db.session.execute(
            filtered(reseller_id, AuditFilters())
            .with_only_columns(AuditEvent.created_at, AuditEvent.id)
            .where(AuditEvent.id == starting_after)
        ).first()
        if anchor is None:
            raise Problem(
                422, "invalid_parameter", _("No event of yours has this id."), param="starting_after"
            )
        stmt = stmt.where(tuple_(AuditEvent.created_at, AuditEvent.id) < tuple_(anchor.created_at, anchor.id))
    rows = list(
        db.session.scalars(stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit + 1))
    )
    return rows[:limit], len(rows) > limit


def event_json(event: AuditEvent) -> dict:
    acting_as = (
        event.subject_account_id is not None
        and event.actor_account_id is not None
        and event.subject_account_id != event.actor_account_id
    )
    return {
        "id": event.id,
        "action": event.action,
        "created_at": iso(event.created_at),
        "actor": {
            "kind": event.actor_kind,
            "account_id": event.actor_account_id,
            "api_client_id": event.api_client_id,
            "label": event.actor_label,
        },
        "acting_as_account_id": event.subject_account_id if acting_as else None,
        "client_id": event.client_id,
        "target": {"type": event.object_type, "id": event.object_id} if event.object_type else None,
        "details": event.details or {},
        "ip": event.ip,
        "user_agent": event.user_agent,
        "seq": event.seq,
        "digest": event.digest,
    }

"""The audit log a reseller reads (``/reseller/audit``) and exports: filters from the
query string, newest first, pages by keyset.

The same :class:`AuditFilters` drive the page and the export, so a download holds
exactly the rows the filtered page shows. A page is never counted: "older" and "newer"
links carry the (created_at, id) of the row they continue from, which an index of
migration 0032 reads in order, whatever the size of the log.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, tuple_

from auth.models import Account, Login
from core.audit_labels import ACTION_LABELS
from core.extensions import db
from core.models import AuditEvent
from core.states import ActorKind
from core.timeutil import LOCAL_TZ
from core.validation import parse_choice, parse_int
from tenant.models import Client

PER_PAGE = 50
MAX_TEXT = 40
FILTER_KEYS = (
    "kind",
    "acting_as",
    "action",
    "client",
    "object_type",
    "object_id",
    "ip",
    "date_from",
    "date_to",
)


@dataclass
class AuditFilters:
    """Validated filters of the audit log; an invalid value is dropped and explained."""

    kind: str = ""
    acting_as: bool = False
    action: str = ""
    client: int | None = None
    object_type: str = ""
    object_id: str = ""
    ip: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        f = cls()
        f.kind = parse_choice(args, "kind", tuple(ActorKind), _l("Actor"), f.errors)
        f.action = parse_choice(args, "action", ACTION_LABELS, _l("Action"), f.errors)
        f.acting_as = (args.get("acting_as") or "").strip() in ("1", "on", "yes")
        raw_client = (args.get("client") or "").strip().lstrip("#")
        if raw_client:
            f.client = parse_int(raw_client, min=1)
            if f.client is None:
                f.errors.append(_("Client must be a client's ID (a whole number)."))
        for name in ("object_type", "object_id"):
            value = (args.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                f.errors.append(_("Target is limited to %(n)d characters.", n=MAX_TEXT))
                value = ""
            setattr(f, name, value)
        raw_ip = (args.get("ip") or "").strip()
        if raw_ip:
            try:
                f.ip = str(ipaddress.ip_address(raw_ip))
            except ValueError:
                f.errors.append(_("IP must be an IPv4 or IPv6 address."))
        f.date_from = f._date(args, "date_from", _l("From"))
        f.date_to = f._date(args, "date_to", _l("To"))
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors.append(_("“From” is after “To”."))
            f.date_to = None
        return f

    def _date(self, args, name, label) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors.append(_("%(field)s is not a valid date (use YYYY-MM-DD).", field=label))
            return None

    def apply(self, stmt: Select) -> Select:
        """Add these filters' WHERE clauses to ``stmt`` (already scoped to the reseller)."""
        if self.kind:
            stmt = stmt.where(AuditEvent.actor_kind == self.kind)
        if self.acting_as:
            stmt = stmt.where(AuditEvent.actor_account_id != AuditEvent.subject_account_id)
        if self.action:
            stmt = stmt.where(AuditEvent.action == self.action)
        if self.client is not None:
            stmt = stmt.where(AuditEvent.client_id == self.client)
        if self.object_type:
            stmt = stmt.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditEvent.object_id == self.object_id)
        if self.ip:
            stmt = stmt.where(AuditEvent.ip == self.ip)
        if self.date_from:
            stmt = stmt.where(AuditEvent.created_at >= local_midnight_utc(self.date_from))
        if self.date_to:
            stmt = stmt.where(AuditEvent.created_at < local_midnight_utc(self.date_to + timedelta(days=1)))
        return stmt

    def query_args(self, **changes) -> dict:
        args = {
            "kind": self.kind,
            "acting_as": "1" if self.acting_as else "",
            "action": self.action,
            "client": str(self.client) if self.client else "",
            "object_type": self.object_type,
            "object_id": self.object_id,
            "ip": self.ip,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v not in ("", None)}

    def url_query(self, **changes) -> str:
        return urlencode(self.query_args(**changes))


def local_midnight_utc(day: date) -> datetime:
    """The naive UTC moment a local (São Paulo) day starts."""
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def filtered(reseller_id: int, filters: AuditFilters) -> Select:
    return filters.apply(select(AuditEvent).where(AuditEvent.reseller_id == reseller_id))


# --- keyset pages ---------------------------------------------------------------------


def encode_cursor(event: AuditEvent) -> str:
    return f"{event.created_at.isoformat(timespec='microseconds')}_{event.id}"


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    when, _sep, ident = (value or "").partition("_")
    number = parse_int(ident, min=1)
    if not when or number is None:
        return None
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return None
    return (moment.replace(tzinfo=None), number)


@dataclass
class AuditPage:
    events: list[AuditEvent]
    older: str | None  # cursor of the next (older) page
    newer: str | None  # cursor of the previous (newer) page


def page(reseller_id: int, filters: AuditFilters, *, before: str | None = None, after: str | None = None):
    """At most :data:`PER_PAGE` events, newest first: the first page, the page older
    than ``before`` or the page newer than ``after`` (cursors from :func:`encode_cursor`).
    A cursor that does not parse is an error message and the first page."""
    stmt = filtered(reseller_id, filters)
    key = tuple_(AuditEvent.created_at, AuditEvent.id)
    newest_first = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
    older_cursor, newer_cursor = decode_cursor(before), decode_cursor(after)
    if (before and older_cursor is None) or (after and newer_cursor is None):
        filters.errors.append(_("That page link is not valid: showing the newest events."))
    if newer_cursor is not None:
        rows = db.session.scalars(
            stmt.where(key > tuple_(*newer_cursor))
            .order_by(AuditEvent.created_at.asc(), AuditEvent.id.asc())
            .limit(PER_PAGE + 1)
        ).all()
        more_newer = len(rows) > PER_PAGE
        events = list(reversed(rows[:PER_PAGE]))
        return AuditPage(
            events,
            older=encode_cursor(events[-1]) if events else None,
            newer=encode_cursor(events[0]) if events and more_newer else None,
        )
    if older_cursor is not None:
        stmt = stmt.where(key < tuple_(*older_cursor))
    rows = db.session.scalars(stmt.order_by(*newest_first).limit(PER_PAGE + 1)).all()
    events = rows[:PER_PAGE]
    return AuditPage(
        events,
        older=encode_cursor(events[-1]) if len(rows) > PER_PAGE else None,
        newer=encode_cursor(events[0]) if older_cursor is not None and events else None,
    )


# --- what a row shows -----------------------------------------------------------------


def people(reseller_id: int, events: list[AuditEvent]) -> dict[int, str]:
    """Names (or e-mails) of the accounts the events name, in one query."""
    ids = {i for e in events for i in (e.actor_account_id, e.subject_account_id) if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Account.id, Account.name, Login.email)
        .join(Login, Login.id == Account.login_id)
        .where(Account.reseller_id == reseller_id, Account.id.in_(ids))
    ).all()
    return {row.id: row.name or row.email for row in rows}


def client_names(reseller_id: int, events: list[AuditEvent]) -> dict[int, str]:
    ids = {e.client_id for e in events if e.client_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Client.id, Client.trade_name).where(Client.reseller_id == reseller_id, Client.id.in_(ids))
    ).all()
    return {row.id: row.trade_name for row in rows}


def changes(details: dict | None) -> list[tuple[str, object, object]]:
    """The before/after pairs a change's details carry: ``(field, before, after)``, one
    per changed field ("" when the whole value changed)."""
    details = details or {}
    if "before" in details or "after" in details:
        before, after = details.get("before"), details.get("after")
        if isinstance(before, dict) or isinstance(after, dict):
            b, a = before or {}, after or {}
            return [(k, b.get(k), a.get(k)) for k in sorted(set(b) | set(a)) if b.get(k) != a.get(k)]
        return [("", before, after)]
    return [
        (k, v["before"], v["after"])
        for k, v in sorted(details.items())
        if isinstance(v, dict) and set(v) == {"before", "after"}
    ]


def other_details(details: dict | None) -> dict:
    """The details that are not a before/after pair."""
    return {
        k: v
        for k, v in (details or {}).items()
        if k not in ("before", "after") and not (isinstance(v, dict) and set(v) == {"before", "after"})
    }

"""Tickets: opening one, the timeline (public replies, internal notes, events) and who
wrote each line. Changes to an open ticket (status, assignee, priority, followers, merge,
bulk) are in ``ticket_changes.py``; the reply e-mail in ``ticket_mail.py``.

Every change writes a timeline entry and an audit record. The author of an entry is the
account of the session; when staff are logged in as a client user ("log in as"), that
user is the author and the staff account is kept in ``acting_as_account_id``. Written
through the reseller's API (no account), the line keeps the API client's name in
``author_label``.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import datetime

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select

from auth.access import is_impersonating
from auth.models import CLIENT_USER
from core import audit
from core.extensions import db
from core.timeutil import utcnow
from desk import fields, sla_state
from desk.errors import DeskRejected
from desk.models import Desk, DeskClient
from desk.numbering import next_ticket_number
from desk.sla_calendars import recent_calendar
from desk.states import FINISHED_KINDS, EntryKind, EventType, Priority, StatusKind
from desk.statuses import default_status
from desk.ticket_models import PRIORITY_RANKS, Ticket, TicketEntry

MAX_SUBJECT = 200
MAX_BODY = 20_000


class TicketRefused(ValueError):
    """The change is not made; ``message`` says why in the user's language (and
    ``errors``, for custom field values, the reason per field key)."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


# Outside a request, the account a job writes for (a ticket or a reply received by e-mail).
_JOB_AUTHOR: ContextVar[int | None] = ContextVar("ticket_job_author", default=None)


@contextlib.contextmanager
def written_by(account_id: int):
    """Outside a request: what the block writes on a timeline is ``account_id``'s (the
    client user whose e-mail became a ticket or a reply), not the system's."""
    token = _JOB_AUTHOR.set(account_id)
    try:
        yield
    finally:
        _JOB_AUTHOR.reset(token)


def author_ids() -> tuple[int | None, int | None]:
    """(author, acting as): the session's account, and the staff account behind it while
    impersonating (outside a request: the account of :func:`written_by`, else the
    system, nobody)."""
    if not has_request_context():
        return _JOB_AUTHOR.get(), None
    subject = g.get("subject_account_id")
    return subject, (g.get("actor_account_id") if is_impersonating() else None)


def add_entry(
    ticket: Ticket,
    kind: EntryKind,
    *,
    body: str | None = None,
    event: dict | None = None,
    at: datetime | None = None,
) -> TicketEntry:
    """Append one line to the ticket's timeline (and mark the ticket's activity)."""
    author, acting_as = author_ids()
    at = at or utcnow()
    # Through the API: the API client that wrote it, by its name (core.audit names it too).
    by_api = has_request_context() and g.get("api_client_id") is not None and author is None
    entry = TicketEntry(
        reseller_id=ticket.reseller_id,
        client_id=ticket.client_id,
        ticket_id=ticket.id,
        kind=kind,
        author_account_id=author,
        acting_as_account_id=acting_as,
        author_label=g.get("actor_label") if by_api else None,
        body=body,
        event=event,
        created_at=at,
    )
    db.session.add(entry)
    ticket.last_activity_at = at
    return entry


def add_event(
    ticket: Ticket, event_type: EventType, before=None, after=None, *, at: datetime | None = None
) -> TicketEntry:
    """An event entry with its before/after, audited as ``ticket.<type>``."""
    payload = {"type": str(event_type), "before": before, "after": after}
    audit.record(f"ticket.{event_type}", ticket, details={"number": ticket.number, **payload})
    return add_entry(ticket, EntryKind.EVENT, event=payload, at=at)


def clean_text(value: str | None, *, limit: int, label: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise TicketRefused(_("%(field)s is required.", field=label))
    if len(text) > limit:
        raise TicketRefused(_("%(field)s is limited to %(n)d characters.", field=label, n=limit))
    return text


def check_priority(value: str | None) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise TicketRefused(_("Unknown priority.")) from None


def validate_values(desk: Desk, values: dict, *, by_client: bool, current: dict | None = None) -> dict:
    """The ticket's field values once ``values`` are applied to ``current``: each checked
    against the desk's fields by ``desk.fields.clean_values`` (type, options, length,
    required, and for a client what it may edit). Refused as a whole, with every reason."""
    try:
        definitions = fields.desk_fields(desk)
        return fields.clean_values(definitions, values or {}, current=current, by_client=by_client)
    except DeskRejected as exc:
        message = " ".join(str(message) for message in exc.errors.values())
        raise TicketRefused(message, errors=exc.errors) from exc


def desk_serves_client(desk: Desk, client) -> bool:
    linked = db.session.scalar(
        select(DeskClient.id).where(DeskClient.desk_id == desk.id, DeskClient.client_id == client.id)
    )
    return linked is not None and desk.reseller_id == client.reseller_id and desk.archived_at is None


def open_ticket(
    desk: Desk,
    client,
    requester,
    subject: str,
    description: str = "",
    *,
    priority: str | None = None,
    field_values: dict | None = None,
    by_client: bool = False,
    description_html: str | None = None,
) -> Ticket:
    """Open a ticket of ``client`` on ``desk`` asked by ``requester`` (a user of the client):
    by the user in the portal, or by staff on the user's behalf (``description_html``:
    the sanitised HTML of a ticket opened by e-mail)."""
    if not desk_serves_client(desk, client):
        raise TicketRefused(_("This desk does not serve this client."))
    if requester is None or requester.kind != CLIENT_USER or requester.client_id != client.id:
        raise TicketRefused(_("The requester must be a user of the client."))
    subject = clean_text(subject, limit=MAX_SUBJECT, label=_("Subject"))
    description = clean_text(description, limit=MAX_BODY, label=_("Description"), required=False)
    chosen = check_priority(priority or desk.default_priority)
    status = default_status(desk.reseller_id, StatusKind.NEW)
    values = validate_values(desk, field_values or {}, by_client=by_client)
    created = {"subject": subject, "priority": str(chosen)}
    # What its SLA reads, read before the number is taken: the number's row lock is held
    # until the commit, and another ticket of the reseller waits for it.
    known = _new_ticket_context(desk, client, chosen, created)
    number = next_ticket_number(desk.reseller_id)
    now = utcnow()
    ticket = Ticket(
        reseller_id=desk.reseller_id,
        number=number,
        desk_id=desk.id,
        client_id=client.id,
        requester_account_id=requester.id,
        subject=subject,
        description=description,
        description_html=description_html,
        priority=chosen,
        priority_rank=PRIORITY_RANKS[chosen],
        status_id=status.id,
        status_kind=StatusKind.NEW,
        field_values=values,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        awaiting_reply_since=now,
    )
    # Computed before the ticket is written (it is not in the session yet, so it has no
    # id: the context holds its history under None), so that one INSERT carries its SLA:
    # an UPDATE right after it would write the ticket's 25 indexes again.
    sla_state.refresh(ticket, context=known)
    db.session.add(ticket)
    db.session.flush()
    add_event(ticket, EventType.CREATED, after=created, at=now)  # at: no change to the ticket
    return ticket


def _new_ticket_context(desk: Desk, client, priority: Priority, created: dict) -> sla_state.Context:
    """What refreshing a ticket being created reads, filled: its history is its creation
    alone, its desk is at hand, its calendar is the recent one (``desk.sla_calendars``),
    and its targets and its client's plan policy are read now."""
    # Its creation event: the clocks read only its "after" (its time is the ticket's).
    creation = sla_state.Line(
        utcnow(), EntryKind.EVENT, event={"type": str(EventType.CREATED), "after": created}
    )
    context = sla_state.Context(
        desks={desk.id: (desk.sla_policy_id, desk.calendar_id)},
        calendars={desk.calendar_id: recent_calendar(desk.reseller_id, desk.calendar_id)},
        timelines={None: [creation]},
        notices={None: set()},
    )
    plan_policy = context.plan_policy(client.id)
    for policy_id in {desk.sla_policy_id, plan_policy} - {None}:
        context.policy_targets(desk.reseller_id, policy_id, priority)
    return context


def first_entry_id(ticket: Ticket) -> int | None:
    """The ticket's first timeline entry (its creation)."""
    return db.session.scalar(
        select(TicketEntry.id).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.id).limit(1)
    )


def internal_note(ticket: Ticket, body: str, by) -> TicketEntry:
    """A note between staff: never e-mailed, never shown to the client."""
    if not by.is_staff:
        raise TicketRefused(_("Only staff write internal notes."))
    body = clean_text(body, limit=MAX_BODY, label=_("Note"))
    entry = add_entry(ticket, EntryKind.INTERNAL_NOTE, body=body)
    db.session.flush()
    audit.record("ticket.note", ticket, details={"number": ticket.number, "entry_id": entry.id})
    return entry


def is_finished(ticket: Ticket) -> bool:
    return ticket.status_kind in FINISHED_KINDS


def timeline(ticket: Ticket, *, for_client: bool = False) -> list[TicketEntry]:
    """The ticket's entries, oldest first (a client never sees internal notes)."""
    stmt = select(TicketEntry).where(
        TicketEntry.ticket_id == ticket.id, TicketEntry.reseller_id == ticket.reseller_id
    )
    if for_client:
        stmt = stmt.where(TicketEntry.kind != EntryKind.INTERNAL_NOTE)
    return list(db.session.scalars(stmt.order_by(TicketEntry.created_at, TicketEntry.id)))

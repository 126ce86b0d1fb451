"""Public replies: written by staff (e-mailed to the requester and the followers) or by
a user of the client (through the portal, which calls :func:`public_reply` too). A reply
moves the ticket along: staff answering a new ticket opens it; a client answering a
ticket that waits on it or on its review, or reopening a finished one within the desk's
window, puts it back in service. The SLA is recomputed after each."""

from __future__ import annotations

from flask_babel import gettext as _

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from desk import sla_state
from desk.states import FINISHED_KINDS, EntryKind, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status, pending_approval
from desk.ticket_files import attach
from desk.ticket_mail import send_reply
from desk.ticket_models import Ticket, TicketEntry
from desk.tickets import MAX_BODY, TicketRefused, add_entry, clean_text, internal_note

# A client's reply to a ticket in one of these puts it back in service: it was waiting
# for the client's answer, or for the client's review of its resolution (which a reply
# turns down, as reopening with a reason does).
CLIENT_TURN_KINDS = (StatusKind.WAITING_ON_CLIENT, StatusKind.PENDING_REVIEW)


def public_reply(ticket: Ticket, body: str, by, files=()) -> TicketEntry:
    """A reply the client sees, by staff or by a user of the ticket's client."""
    if ticket.status_kind == StatusKind.MERGED:
        raise TicketRefused(_("This ticket was merged into another: answer that one."))
    if not by.is_staff and by.client_id != ticket.client_id:
        raise TicketRefused(_("Only the client's users and staff answer this ticket."))
    body = clean_text(body, limit=MAX_BODY, label=_("Reply"))
    now = utcnow()
    if by.is_staff:
        if ticket.status_kind == StatusKind.NEW:
            change_status(ticket, default_status(ticket.reseller_id, StatusKind.OPEN))
        ticket.first_responded_at = ticket.first_responded_at or now
        ticket.awaiting_reply_since = None
    else:
        # A ticket waiting for its approvers stays waiting: a reply is not a decision.
        awaiting_client = ticket.status_kind in CLIENT_TURN_KINDS and pending_approval(ticket) is None
        if ticket.status_kind in FINISHED_KINDS or awaiting_client:
            change_status(ticket, default_status(ticket.reseller_id, StatusKind.OPEN))
        ticket.awaiting_reply_since = ticket.awaiting_reply_since or now
    entry = add_entry(ticket, EntryKind.PUBLIC_REPLY, body=body, at=now)
    db.session.flush()
    attach(ticket, entry, files, by_account_id=by.id)
    audit.record("ticket.reply", ticket, details={"number": ticket.number, "entry_id": entry.id})
    if by.is_staff:
        send_reply(ticket, entry)
    sla_state.refresh(ticket)
    return entry


def note_with_files(ticket: Ticket, body: str, by, files=()) -> TicketEntry:
    """An internal note (staff only) and its attachments."""
    entry = internal_note(ticket, body, by)
    attach(ticket, entry, files, by_account_id=by.id)
    return entry

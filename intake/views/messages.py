"""The original of a received e-mail (``/reseller/tickets/<id>/mail/<message id>``): the
raw message a ticket or a reply was made from, downloadable by the staff who may see the
ticket (the stored reply has its quoted history trimmed; the original keeps everything).

Registered on the ticket page through ``desk.hooks.register_entry_sources``."""

from __future__ import annotations

from flask import Blueprint, abort, url_for
from sqlalchemy import select

from auth import permissions as perm
from auth.access import current_account, require_permission
from core.extensions import db
from core.storage import ObjectMissing, get_storage
from core.tenancy import get_or_404, scoped_select
from core.uploads import attachment_response
from desk.staffing import works_desk
from desk.ticket_models import Ticket, TicketEntry
from intake.models import InboundMessage

bp = Blueprint("mail_messages", __name__, url_prefix="/reseller")

RAW_MESSAGE_TYPE = "message/rfc822"


def _entries_of(ticket: Ticket):
    return select(TicketEntry.id).where(TicketEntry.ticket_id == ticket.id)


def entry_sources(ticket: Ticket) -> dict[int, str]:
    """``{entry id: link to its original e-mail}`` for the ticket's entries made from mail."""
    rows = db.session.execute(
        scoped_select(InboundMessage, InboundMessage.id, InboundMessage.entry_id).where(
            InboundMessage.entry_id.in_(_entries_of(ticket))
        )
    ).all()
    return {
        entry_id: url_for("mail_messages.original_message", ticket_id=ticket.id, message_id=message_id)
        for message_id, entry_id in rows
    }


@bp.get("/tickets/<int:ticket_id>/mail/<int:message_id>")
@require_permission(perm.DESKS)
def original_message(ticket_id: int, message_id: int):
    if not current_account.is_staff:
        abort(403)
    ticket = get_or_404(Ticket, ticket_id)
    if not works_desk(current_account, ticket.desk_id):
        abort(404)
    row = db.session.scalar(
        scoped_select(InboundMessage).where(
            InboundMessage.id == message_id, InboundMessage.entry_id.in_(_entries_of(ticket))
        )
    )
    if row is None:
        abort(404)
    return raw_message(row)


def raw_message(row: InboundMessage):
    """The stored bytes of a received message as an ``.eml`` download (404 when gone);
    the caller has checked that the staff member may see it."""
    try:
        stream = get_storage().open(row.storage_key)
    except ObjectMissing:
        abort(404)
    return attachment_response(stream, RAW_MESSAGE_TYPE, f"mensagem-{row.id}.eml", row.size)

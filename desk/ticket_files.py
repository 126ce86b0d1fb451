"""A ticket's attachments: checked and stored by ``core.uploads`` under the client's
storage prefix (so the client's purge removes them), one ``ticket_attachments`` row each;
read back only through the row, by a view that has checked who may see the ticket."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.storage import client_key, get_storage
from core.uploads import UploadRefused, store_upload
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry
from desk.tickets import TicketRefused

MAX_FILES = 5


class AttachmentRefused(TicketRefused):
    """A file refused (type, size, emptiness, too many): the message says which and why."""


def attach(
    ticket: Ticket, entry: TicketEntry | None, files, *, by_account_id: int | None
) -> list[TicketAttachment]:
    """Store each file (refused by type, size or emptiness: :class:`AttachmentRefused`, and
    the files already stored for this call are removed again)."""
    files = [f for f in files if f and f.filename]
    if len(files) > MAX_FILES:
        raise AttachmentRefused(_("At most %(n)d files per message.", n=MAX_FILES))
    stored: list[TicketAttachment] = []
    try:
        for upload in files:
            key = client_key(
                ticket.reseller_id, ticket.client_id, "tickets", ticket.id, secrets.token_hex(16)
            )
            checked = store_upload(key, upload.stream, upload.filename)
            row = TicketAttachment(
                reseller_id=ticket.reseller_id,
                client_id=ticket.client_id,
                ticket_id=ticket.id,
                entry_id=entry.id if entry is not None else None,
                storage_key=key,
                filename=checked.filename,
                size=checked.size,
                content_type=checked.content_type,
                sha256=checked.sha256,
                uploaded_by_account_id=by_account_id,
                content_id=_content_id(upload),
            )
            db.session.add(row)
            stored.append(row)
    except UploadRefused as refused:
        for row in stored:
            get_storage().delete(row.storage_key)
            db.session.expunge(row)
        raise AttachmentRefused(refused.message) from None
    db.session.flush()
    for row in stored:
        audit.record("ticket.attachment", ticket, details={"number": ticket.number, "attachment_id": row.id})
    return stored


def _content_id(upload) -> str | None:
    """The Content-ID an e-mail's inline image came with (``<logo@x>`` -> ``logo@x``)."""
    headers = getattr(upload, "headers", None)
    value = (headers.get("Content-ID") if headers is not None else None) or ""
    return value.strip().strip("<>")[:255] or None


def attachments(ticket: Ticket) -> list[TicketAttachment]:
    return list(
        db.session.scalars(
            select(TicketAttachment)
            .where(
                TicketAttachment.ticket_id == ticket.id, TicketAttachment.reseller_id == ticket.reseller_id
            )
            .order_by(TicketAttachment.id)
        )
    )


def attachment_of(ticket: Ticket, attachment_id: int) -> TicketAttachment | None:
    """The ticket's own attachment of that id (another ticket's: ``None``)."""
    return db.session.scalar(
        select(TicketAttachment).where(
            TicketAttachment.id == attachment_id,
            TicketAttachment.ticket_id == ticket.id,
            TicketAttachment.reseller_id == ticket.reseller_id,
        )
    )


def open_attachment(row: TicketAttachment):
    return get_storage().open(row.storage_key)

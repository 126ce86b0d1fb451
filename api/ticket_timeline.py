"""A ticket's timeline through the API: its entries as the staff see them (internal notes
too), oldest first, a page at a time with the API's cursor (``limit``,
``starting_after`` an entry id, ``has_more``), each entry with its attachments and their
download addresses (``GET /api/v1/tickets/{id}/attachments/{aid}``)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from api.conventions import iso
from api.problems import Problem
from api.ticket_pages import by_id
from auth.models import Account
from core.extensions import db
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry


def _author(entry: TicketEntry, people: dict) -> dict:
    account = people.get(entry.author_account_id)
    if account is not None:
        return {"type": account.kind, "id": account.id, "name": account.name}
    if entry.author_label:
        return {"type": "api_client", "id": None, "name": entry.author_label}
    return {"type": "system", "id": None, "name": None}


def attachment_json(row: TicketAttachment) -> dict:
    return {
        "id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "url": url_for("api_v1.ticket_attachment", ticket_id=row.ticket_id, attachment_id=row.id),
    }


def entries_json(ticket: Ticket, entries: list[TicketEntry]) -> list[dict]:
    """The entries as JSON, their people and attachments read once for all of them."""
    people = by_id(
        Account, [e.author_account_id for e in entries] + [e.acting_as_account_id for e in entries]
    )
    files: dict[int, list] = {}
    if entries:
        rows = db.session.scalars(
            select(TicketAttachment)
            .where(
                TicketAttachment.reseller_id == ticket.reseller_id,
                TicketAttachment.ticket_id == ticket.id,
                TicketAttachment.entry_id.in_([e.id for e in entries]),
            )
            .order_by(TicketAttachment.id)
        )
        for row in rows:
            files.setdefault(row.entry_id, []).append(attachment_json(row))
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "author": _author(e, people),
            "acting_as": (
                {"id": e.acting_as_account_id, "name": people[e.acting_as_account_id].name}
                if e.acting_as_account_id in people
                else None
            ),
            "body": e.body,
            "event": e.event,
            "attachments": files.get(e.id, []),
            "created_at": iso(e.created_at),
        }
        for e in entries
    ]


def _entries(ticket: Ticket):
    return select(TicketEntry).where(
        TicketEntry.ticket_id == ticket.id, TicketEntry.reseller_id == ticket.reseller_id
    )


def timeline_page(ticket: Ticket, limit: int, starting_after: int | None) -> tuple[list[TicketEntry], bool]:
    """Up to ``limit`` entries after entry ``starting_after`` in the timeline's order
    (``desk.tickets.timeline``: when written, then the id), and whether more follow. An id
    that is no entry of this ticket is a 422 naming ``starting_after``."""
    stmt = _entries(ticket)
    if starting_after is not None:
        anchor = db.session.scalar(_entries(ticket).where(TicketEntry.id == starting_after))
        if anchor is None:
            raise Problem(
                422, "invalid_parameter", _("No entry of this ticket has this id."), param="starting_after"
            )
        stmt = stmt.where(
            or_(
                TicketEntry.created_at > anchor.created_at,
                and_(TicketEntry.created_at == anchor.created_at, TicketEntry.id > anchor.id),
            )
        )
    rows = list(db.session.scalars(stmt.order_by(TicketEntry.created_at, TicketEntry.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit

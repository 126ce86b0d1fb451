"""A client's unfinished tickets: what blocks its inactivation and deletion (seed 000:
"open or pending review") and its unlinking from a desk (seed 001)."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from core.extensions import db
from desk.states import BLOCKING_KINDS
from desk.ticket_models import Ticket


def open_tickets_select(client_id, reseller_id, desk_id: int | None = None) -> Select:
    """The count of the client's tickets (on ``desk_id`` only, when given) that are new,
    open, waiting or pending review; values or bound parameters."""
    query = (
        select(func.count().label("open_tickets"))
        .select_from(Ticket)
        .where(
            Ticket.client_id == client_id,
            Ticket.reseller_id == reseller_id,
            Ticket.status_kind.in_(BLOCKING_KINDS),
        )
    )
    if desk_id is not None:
        query = query.where(Ticket.desk_id == desk_id)
    return query


def open_ticket_count(client, desk_id: int | None = None) -> int:
    """How many of the client's tickets (on ``desk_id`` only, when given) are new, open,
    waiting or pending review."""
    return db.session.scalar(open_tickets_select(client.id, client.reseller_id, desk_id))

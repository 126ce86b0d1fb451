"""A client's unfinished tickets: what blocks its inactivation and deletion (seed 000:
"open or pending review") and its unlinking from a desk (seed 001)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from desk.states import BLOCKING_KINDS
from desk.ticket_models import Ticket


def open_ticket_count(client, desk_id: int | None = None) -> int:
    """How many of the client's tickets (on ``desk_id`` only, when given) are new, open,
    waiting or pending review."""
    query = (
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.client_id == client.id,
            Ticket.reseller_id == client.reseller_id,
            Ticket.status_kind.in_(BLOCKING_KINDS),
        )
    )
    if desk_id is not None:
        query = query.where(Ticket.desk_id == desk_id)
    return db.session.scalar(query)

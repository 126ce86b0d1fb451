"""Merging a ticket into another of the same client, and the bulk actions of the queue
(assign, change status, close), each ticket checked and audited on its own."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.extensions import db
from desk import sla_state
from desk.states import EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import assign, change_status, refuse_while_approval_pending, status_of
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry, TicketFollower
from desk.tickets import TicketRefused, add_event


def merge(source: Ticket, target: Ticket) -> None:
    """Move ``source``'s timeline, attachments and followers to ``target``; ``source``
    becomes "merged" and points to ``target``."""
    if source.id == target.id:
        raise TicketRefused(_("A ticket cannot be merged into itself."))
    if source.reseller_id != target.reseller_id or source.client_id != target.client_id:
        raise TicketRefused(_("Only tickets of the same client can be merged."))
    if StatusKind.MERGED in (source.status_kind, target.status_kind):
        raise TicketRefused(_("A merged ticket cannot be merged again, nor receive a merge."))
    refuse_while_approval_pending(source)
    for model in (TicketEntry, TicketAttachment):
        db.session.execute(
            update(model)
            .where(model.ticket_id == source.id, model.reseller_id == source.reseller_id)
            .values(ticket_id=target.id)
            .execution_options(synchronize_session=False)
        )
    known = set(
        db.session.scalars(select(TicketFollower.account_id).where(TicketFollower.ticket_id == target.id))
    )
    for row in db.session.scalars(select(TicketFollower).where(TicketFollower.ticket_id == source.id)):
        if row.account_id in known:
            db.session.delete(row)
        else:
            row.ticket_id = target.id
    merged = default_status(source.reseller_id, StatusKind.MERGED)
    before = {"status_id": source.status_id, "kind": source.status_kind}
    source.status_id, source.status_kind, source.status = merged.id, StatusKind.MERGED, merged
    source.merged_into_id = target.id
    source.review_due_at = None  # a merged ticket is never accepted by itself
    add_event(
        source, EventType.STATUS, before=before, after={"status_id": merged.id, "kind": str(merged.kind)}
    )
    add_event(source, EventType.MERGED, after={"into": target.number})
    add_event(target, EventType.MERGED, before={"from": source.number})
    sla_state.refresh(source)
    sla_state.refresh(target)


class BulkAction:
    ASSIGN = "assign"
    STATUS = "status"
    CLOSE = "close"


BULK_ACTIONS = (BulkAction.ASSIGN, BulkAction.STATUS, BulkAction.CLOSE)


def bulk(
    tickets: list[Ticket], action: str, value=None, *, set_status=change_status
) -> tuple[int, list[tuple[int, str]]]:
    """Apply ``action`` to each ticket (already scoped to what the staff member may see);
    a ticket refused is skipped and reported as (number, reason); the others are done.
    ``set_status(ticket, status)`` makes a status change (``desk.review.set_status`` for
    staff: a resolution on a desk with review goes to the client's review)."""
    if action not in BULK_ACTIONS:
        raise TicketRefused(_("Unknown action."))
    if not tickets:
        raise TicketRefused(_("Select at least one ticket."))
    if action == BulkAction.STATUS:
        status = status_of(tickets[0].reseller_id, value)
    elif action == BulkAction.CLOSE:
        status = default_status(tickets[0].reseller_id, StatusKind.CLOSED)
    done, refused = 0, []
    for ticket in tickets:
        try:
            with db.session.begin_nested():
                if action == BulkAction.ASSIGN:
                    assign(ticket, value)
                else:
                    set_status(ticket, status)
            done += 1
        except TicketRefused as reason:
            refused.append((ticket.number, reason.message))
    return done, refused

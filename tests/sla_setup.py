"""Set-up shared by the SLA glue tests: a desk with an SLA policy on a 24x7 calendar, and
tickets whose history is written into their timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.extensions import db
from desk.models import BusinessCalendar, Desk, DeskStaff, SlaPolicy, SlaTarget
from desk.sla_state import status_event
from desk.states import EntryKind, Priority, StatusKind
from desk.statuses import default_status
from desk.ticket_models import Ticket, TicketEntry

T0 = datetime(2026, 3, 2, 12, 0)  # a Monday
ALL_DAY = {str(day): [["00:00", "00:00"]] for day in range(7)}


def policy(reseller_id: int, name: str, first=60, next_=120, resolution=480, percent=80) -> SlaPolicy:
    row = SlaPolicy(reseller_id=reseller_id, name=name, expiring_percent=percent)
    db.session.add(row)
    db.session.flush()
    for priority in Priority:
        db.session.add(
            SlaTarget(
                reseller_id=reseller_id,
                policy_id=row.id,
                priority=priority,
                first_response_minutes=first,
                next_response_minutes=next_,
                resolution_minutes=resolution,
            )
        )
    db.session.flush()
    return row


def sla_desk(factory, reseller_id: int, client_id: int, staff_ids=(), **targets) -> Desk:
    desk = db.session.get(Desk, factory.desk(reseller_id, client_ids=[client_id]).id)
    calendar = BusinessCalendar(reseller_id=reseller_id, name=f"24x7 {desk.id}", hours=ALL_DAY)
    db.session.add(calendar)
    db.session.flush()
    desk.sla_policy_id = policy(reseller_id, f"Policy {desk.id}", **targets).id
    desk.calendar_id = calendar.id
    for account_id in staff_ids:
        db.session.add(DeskStaff(desk_id=desk.id, account_id=account_id, reseller_id=reseller_id))
    db.session.flush()
    return desk


def new_ticket(factory, desk: Desk, client_id: int, created_at: datetime = T0) -> Ticket:
    ticket = db.session.get(Ticket, factory.ticket(client_id, desk_id=desk.id, kind=StatusKind.NEW).id)
    ticket.created_at = created_at
    db.session.flush()
    return ticket


def entry(ticket: Ticket, minutes: float, **fields) -> None:
    """A timeline entry of ``ticket`` ``minutes`` after T0."""
    db.session.add(
        TicketEntry(
            reseller_id=ticket.reseller_id,
            client_id=ticket.client_id,
            ticket_id=ticket.id,
            created_at=T0 + timedelta(minutes=minutes),
            **fields,
        )
    )
    db.session.flush()


def reply(ticket: Ticket, author_id: int | None, minutes: float) -> None:
    entry(ticket, minutes, kind=EntryKind.PUBLIC_REPLY, author_account_id=author_id, body="...")


def move(ticket: Ticket, kind: StatusKind, minutes: float) -> None:
    """Change the ticket's status (with its timeline entry) ``minutes`` after T0."""
    before = ticket.status
    after = default_status(ticket.reseller_id, kind)
    ticket.status_id, ticket.status_kind = after.id, after.kind
    db.session.add(
        TicketEntry(
            reseller_id=ticket.reseller_id,
            client_id=ticket.client_id,
            ticket_id=ticket.id,
            kind=EntryKind.EVENT,
            event=status_event(before, after),
            created_at=T0 + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    db.session.expire(ticket, ["status"])


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)

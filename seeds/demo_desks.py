"""The demo's service desks: Suporte and Financeiro, a default SLA policy on a business
calendar, every client linked; and the tickets the demo's client scenarios ask for."""

from __future__ import annotations

from datetime import datetime

from core.extensions import db
from desk import sla_state
from desk.models import BusinessCalendar, Desk, DeskClient, DeskStaff, SlaPolicy, SlaTarget
from desk.numbering import next_ticket_number
from desk.states import EntryKind, EventType, Priority, StatusKind
from desk.statuses import default_status
from desk.ticket_models import PRIORITY_RANKS, Ticket
from desk.tickets import add_entry

# Monday to Friday, 08:00-12:00 and 13:00-18:00 (São Paulo).
WEEKDAY_HOURS = [["08:00", "12:00"], ["13:00", "18:00"]]
# Business minutes: first response, next response, resolution.
TARGETS = {
    Priority.LOW: (8 * 60, 16 * 60, 5 * 9 * 60),
    Priority.NORMAL: (4 * 60, 8 * 60, 3 * 9 * 60),
    Priority.HIGH: (60, 4 * 60, 9 * 60),
    Priority.URGENT: (30, 60, 4 * 60),
}


def seed_desks(reseller, staff_account_ids: list[int]) -> list[Desk]:
    """Suporte and Financeiro, worked by the given staff, on the default policy and calendar."""
    calendar = BusinessCalendar(
        reseller_id=reseller.id, name="Horário comercial", hours={str(day): WEEKDAY_HOURS for day in range(5)}
    )
    policy = SlaPolicy(reseller_id=reseller.id, name="Padrão")
    policy.targets = [
        SlaTarget(
            reseller_id=reseller.id,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in TARGETS.items()
    ]
    db.session.add_all([calendar, policy])
    db.session.flush()
    desks = [
        Desk(
            reseller_id=reseller.id,
            name=name,
            intake_email=email,
            sla_policy_id=policy.id,
            calendar_id=calendar.id,
            link_new_clients=True,
        )
        for name, email in (("Suporte", "suporte@demo.test"), ("Financeiro", "financeiro@demo.test"))
    ]
    db.session.add_all(desks)
    db.session.flush()
    for desk in desks:
        db.session.add_all(
            DeskStaff(reseller_id=reseller.id, desk_id=desk.id, account_id=account_id)
            for account_id in staff_account_ids
        )
    return desks


def link_clients(desks: list[Desk], clients) -> None:
    for desk in desks:
        db.session.add_all(
            DeskClient(reseller_id=desk.reseller_id, desk_id=desk.id, client_id=client.id)
            for client in clients
        )


def add_ticket(desk: Desk, client, subject: str, kind: StatusKind, created_at: datetime) -> Ticket:
    status = default_status(desk.reseller_id, kind)
    ticket = Ticket(
        reseller_id=desk.reseller_id,
        number=next_ticket_number(desk.reseller_id),
        desk_id=desk.id,
        client_id=client.id,
        requester_account_id=client.responsible_account_id,
        subject=subject,
        priority=desk.default_priority,
        priority_rank=PRIORITY_RANKS[Priority(desk.default_priority)],
        status_id=status.id,
        status_kind=kind,
        field_values={},
        created_at=created_at,
        updated_at=created_at,
        last_activity_at=created_at,
        closed_at=created_at if kind == StatusKind.CLOSED else None,
    )
    db.session.add(ticket)
    return ticket


def open_demo_ticket(desk: Desk, client, subject: str, kind: StatusKind, created_at: datetime) -> Ticket:
    """A demo ticket as one opened in the panel is: its opening on the timeline, and its
    SLA (deadlines, state) from that history."""
    ticket = add_ticket(desk, client, subject, kind, created_at)
    db.session.flush()
    created = {"type": str(EventType.CREATED), "before": None, "after": {"subject": subject}}
    add_entry(ticket, EntryKind.EVENT, event=created, at=created_at)
    sla_state.refresh(ticket)
    return ticket

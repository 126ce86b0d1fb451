"""Changes to a ticket: status (with resolution, closing and reopening), assignee,
priority, followers, custom field values and its desk. Each writes an event on the timeline and an
audit record; the SLA is recomputed after the changes that move it."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from auth.models import STAFF, Account
from core.extensions import db
from core.timeutil import utcnow
from core.validation import parse_int
from desk import fields, sla_state
from desk.links import client_desks
from desk.models import Desk, TicketStatus
from desk.review_models import TicketApproval
from desk.staffing import is_desk_staff, works_desk
from desk.states import FINISHED_KINDS, ApprovalState, EventType, StatusKind
from desk.ticket_models import PRIORITY_RANKS, Ticket, TicketFollower
from desk.tickets import TicketRefused, add_event, check_priority, desk_serves_client, validate_values
from tenant.models import Client


def reopen_deadline(ticket: Ticket):
    """Until when a finished ticket may be reopened (``None``: it is not finished)."""
    finished_at = ticket.closed_at or ticket.resolved_at
    if finished_at is None:
        return None
    return finished_at + timedelta(days=ticket.desk.reopen_window_days)


def may_reopen(ticket: Ticket) -> bool:
    deadline = reopen_deadline(ticket)
    return ticket.status_kind != StatusKind.MERGED and (deadline is None or utcnow() <= deadline)


def status_of(reseller_id: int, raw_id) -> TicketStatus:
    """The reseller's status of that id (as sent by a form), or :class:`TicketRefused`."""
    status_id = parse_int(raw_id, min=1)
    status = status_id and db.session.scalar(
        select(TicketStatus).where(TicketStatus.id == status_id, TicketStatus.reseller_id == reseller_id)
    )
    if status is None:
        raise TicketRefused(_("Unknown status."))
    return status


def pending_approval(ticket: Ticket) -> TicketApproval | None:
    """The ticket's approval still waiting for its approvers (at most one)."""
    return db.session.scalar(
        select(TicketApproval).where(
            TicketApproval.ticket_id == ticket.id,
            TicketApproval.reseller_id == ticket.reseller_id,
            TicketApproval.state == ApprovalState.PENDING,
        )
    )


def refuse_while_approval_pending(ticket: Ticket) -> None:
    """A ticket waiting for an approval moves only when the approval ends (decided or
    cancelled): closing included, so approvers never vote on a finished ticket."""
    if pending_approval(ticket) is not None:
        raise TicketRefused(_("This ticket waits for an approval: cancel the approval before changing it."))


def change_status(ticket: Ticket, status: TicketStatus, *, by_approval: bool = False) -> None:
    """Move the ticket to ``status`` (one of its reseller's), keeping ``status_kind``,
    ``resolved_at`` and ``closed_at`` in step; a finished ticket reopens only within its
    desk's reopen window; "merged" is reached only by merging. While an approval is
    pending only the approval itself (``by_approval``, ``desk.approvals``) moves it."""
    if status.reseller_id != ticket.reseller_id:
        raise TicketRefused(_("Unknown status."))
    if not by_approval and status.id != ticket.status_id:
        refuse_while_approval_pending(ticket)
    if ticket.status_kind == StatusKind.MERGED:
        raise TicketRefused(_("A merged ticket does not change any more."))
    if status.kind == StatusKind.MERGED:
        raise TicketRefused(_("A ticket is marked merged only by merging it into another."))
    if status.id == ticket.status_id:
        return
    before = {"status_id": ticket.status_id, "kind": ticket.status_kind}
    now = utcnow()
    # Out of a finished kind (even to the client's review: finished no more), or back in
    # service from a resolution that awaited the client's review (turned down by the
    # client's reply, or taken back by staff).
    leaves_review = ticket.status_kind == StatusKind.PENDING_REVIEW and status.kind not in (
        *FINISHED_KINDS,
        StatusKind.PENDING_REVIEW,
    )
    reopening = leaves_review or (ticket.status_kind in FINISHED_KINDS and status.kind not in FINISHED_KINDS)
    if reopening:
        if not may_reopen(ticket):
            raise TicketRefused(
                _(
                    "This ticket was finished more than %(n)d days ago and cannot be reopened.",
                    n=ticket.desk.reopen_window_days,
                )
            )
        ticket.reopened_count += 1
        ticket.resolved_at = ticket.closed_at = None
        add_event(ticket, EventType.REOPENED, before=before["kind"], after=str(status.kind))
    if status.kind == StatusKind.RESOLVED:
        ticket.resolved_at, ticket.closed_at = now, None
    elif status.kind == StatusKind.CLOSED:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.closed_at = now
    if ticket.status_kind == StatusKind.PENDING_REVIEW and status.kind != StatusKind.PENDING_REVIEW:
        ticket.review_due_at = None  # out of the client's review: nothing left to accept by itself
    ticket.status_id, ticket.status_kind = status.id, status.kind
    ticket.status = status
    add_event(
        ticket, EventType.STATUS, before=before, after={"status_id": status.id, "kind": str(status.kind)}
    )
    sla_state.refresh(ticket)


def assignable_staff(ticket: Ticket) -> list[Account]:
    """The staff who work the ticket's desk (who may be assigned it)."""
    from_desk = select(Account).where(
        Account.reseller_id == ticket.reseller_id, Account.kind == STAFF, Account.active.is_(True)
    )
    return [
        a for a in db.session.scalars(from_desk.order_by(Account.name)) if is_desk_staff(a.id, ticket.desk_id)
    ]


def assign(ticket: Ticket, account_id: int | None) -> None:
    """Give the ticket to a staff member who works its desk (``None``: nobody)."""
    if account_id == ticket.assignee_account_id:
        return
    if account_id is not None:
        account = db.session.get(Account, account_id)
        if (
            account is None
            or account.reseller_id != ticket.reseller_id
            or account.kind != STAFF
            or not account.active
            or not is_desk_staff(account.id, ticket.desk_id)
        ):
            raise TicketRefused(_("Only staff who work this desk can be assigned its tickets."))
    before, ticket.assignee_account_id = ticket.assignee_account_id, account_id
    add_event(ticket, EventType.ASSIGNEE, before=before, after=account_id)


def set_priority(ticket: Ticket, value: str) -> None:
    priority = check_priority(value)
    if priority == ticket.priority:
        return
    before = ticket.priority
    ticket.priority, ticket.priority_rank = priority, PRIORITY_RANKS[priority]
    add_event(ticket, EventType.PRIORITY, before=before, after=str(priority))
    sla_state.refresh(ticket)


def followers(ticket: Ticket) -> list[Account]:
    return list(
        db.session.scalars(
            select(Account)
            .join(TicketFollower, TicketFollower.account_id == Account.id)
            .where(TicketFollower.ticket_id == ticket.id, TicketFollower.reseller_id == ticket.reseller_id)
            .order_by(Account.name)
        )
    )


def _may_follow(ticket: Ticket, account: Account) -> bool:
    if account.reseller_id != ticket.reseller_id or not account.active:
        return False
    return account.kind == STAFF or account.client_id == ticket.client_id


def follow(ticket: Ticket, account: Account) -> None:
    """``account`` (staff of the reseller, or a user of the ticket's client) receives its
    public replies."""
    if not _may_follow(ticket, account):
        raise TicketRefused(_("This person cannot follow this ticket."))
    if account.id in {a.id for a in followers(ticket)}:
        return
    db.session.add(
        TicketFollower(
            reseller_id=ticket.reseller_id,
            client_id=ticket.client_id,
            ticket_id=ticket.id,
            account_id=account.id,
        )
    )
    add_event(ticket, EventType.FOLLOWER, before=None, after=account.id)


def unfollow(ticket: Ticket, account: Account) -> None:
    row = db.session.scalar(
        select(TicketFollower).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.account_id == account.id
        )
    )
    if row is None:
        return
    db.session.delete(row)
    add_event(ticket, EventType.FOLLOWER, before=account.id, after=None)


def set_field_values(ticket: Ticket, values: dict, *, by_client: bool = False) -> None:
    """Change custom field values (checked by ``validate_values``); one event per field."""
    current = dict(ticket.field_values or {})
    clean = validate_values(ticket.desk, values, by_client=by_client, current=current)
    for key in sorted(current.keys() | clean.keys()):
        if current.get(key) != clean.get(key):
            add_event(ticket, EventType.FIELD, before={key: current.get(key)}, after={key: clean.get(key)})
    ticket.field_values = clean


def move_targets(ticket: Ticket, account) -> list[Desk]:
    """The desks ``account`` may move the ticket to: those it works that serve the
    ticket's client, but the ticket's own (archived desks serve nobody)."""
    return [d for d in client_desks(ticket_client(ticket), worked_by=account) if d.id != ticket.desk_id]


def ticket_client(ticket: Ticket) -> Client:
    return db.session.get(Client, ticket.client_id)


def move_to_desk(ticket: Ticket, desk: Desk | None, *, by=None) -> None:
    """Move the ticket to ``desk`` (worked by ``by``, a staff account, when given): the
    assignee stays only if they work the new desk, values of fields the new desk's form
    does not have are dropped, and the SLA is recomputed from the history under the new
    desk's policy. One desk event records both desks and the field values before/after."""
    if desk is None or desk.reseller_id != ticket.reseller_id:
        raise TicketRefused(_("Unknown desk."))
    if ticket.status_kind == StatusKind.MERGED:
        raise TicketRefused(_("A merged ticket does not change any more."))
    if desk.id == ticket.desk_id:
        raise TicketRefused(_("The ticket is already on this desk."))
    if desk.archived_at is not None:
        raise TicketRefused(_("This desk is archived."))
    if by is not None and not works_desk(by, desk.id):
        raise TicketRefused(_("You do not work this desk."))
    if not desk_serves_client(desk, ticket_client(ticket)):
        raise TicketRefused(_("This desk does not serve this client."))
    old, before_values = ticket.desk, dict(ticket.field_values or {})
    after_values = fields.carried_values(
        fields.desk_fields(desk), before_values, fields.desk_fields(ticket.desk, archived=True)
    )
    ticket.desk, ticket.desk_id = desk, desk.id
    ticket.field_values = after_values
    add_event(
        ticket,
        EventType.DESK,
        before={"desk_id": old.id, "desk_name": old.name, "field_values": before_values},
        after={"desk_id": desk.id, "desk_name": desk.name, "field_values": after_values},
    )
    if ticket.assignee_account_id is not None and not is_desk_staff(ticket.assignee_account_id, desk.id):
        assign(ticket, None)
    sla_state.refresh(ticket)

"""A ticket's followers, its move to another desk and its merge into another ticket
through the API, by the staff ticket page's rules (``desk.ticket_changes``,
``desk.merging``), the API client acting as the reseller's staff who work every desk;
their refusals as problems (a parameter's a 422 naming it, the ticket's state a 409).
Each change is audited by the rule with the API client as its actor."""

from __future__ import annotations

from flask_babel import gettext as _

from api.problems import Problem
from api.ticket_pages import refused
from auth.models import CLIENT_USER, STAFF, Account
from core.extensions import db
from core.tenancy import scoped_select
from desk import ticket_changes as changes
from desk.merging import merge
from desk.models import Desk
from desk.staffing import works_desk
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused


def person_json(account: Account) -> dict:
    return {"id": account.id, "name": account.name, "email": account.email, "type": account.kind}


def followers(ticket: Ticket) -> list[Account]:
    """The ticket's followers, by name (``desk.ticket_changes.followers``)."""
    return changes.followers(ticket)


def _may_be_added(ticket: Ticket, account: Account | None) -> bool:
    """Who the API may add: an active user of the ticket's client, or an active staff
    member who works its desk (the staff page adds only staff who see the ticket; the
    owner works every desk)."""
    if account is None or not account.active:
        return False
    if account.kind == CLIENT_USER:
        return account.client_id == ticket.client_id
    return account.kind == STAFF and works_desk(account, ticket.desk_id)


def add_follower(ticket: Ticket, account_id: int) -> Account:
    """``account_id`` follows the ticket (already following: nothing changes)."""
    account = db.session.scalar(
        scoped_select(Account, reseller_id=ticket.reseller_id).where(Account.id == account_id)
    )
    if not _may_be_added(ticket, account):
        raise Problem(
            422, "invalid_parameter", _("This person cannot follow this ticket."), param="account_id"
        )
    try:
        changes.follow(ticket, account)
    except TicketRefused as exc:
        raise refused(exc, {}, otherwise=422, param="account_id") from None
    return account


def remove_follower(ticket: Ticket, account_id: int) -> None:
    """``account_id`` stops following the ticket; someone who does not follow it is a 404."""
    account = next((a for a in followers(ticket) if a.id == account_id), None)
    if account is None:
        raise Problem(404, "not_found", _("This person does not follow this ticket."))
    changes.unfollow(ticket, account)


def move(ticket: Ticket, desk_id: int) -> None:
    """The ticket on another desk of the reseller serving its client
    (``desk.ticket_changes.move_to_desk``); a desk it refuses is a 422 naming
    ``desk_id``, a merged ticket a 409."""
    desk = db.session.scalar(scoped_select(Desk, reseller_id=ticket.reseller_id).where(Desk.id == desk_id))
    params = dict.fromkeys(
        (
            _("Unknown desk."),
            _("The ticket is already on this desk."),
            _("This desk is archived."),
            _("This desk does not serve this client."),
        ),
        "desk_id",
    )
    try:
        changes.move_to_desk(ticket, desk)
    except TicketRefused as exc:
        raise refused(exc, params) from None


def merge_into(ticket: Ticket, target_id: int) -> Ticket:
    """``ticket`` merged into ticket ``target_id`` of the same client (``desk.merging``):
    its timeline, files and followers move there and it becomes "merged". An unknown
    target, itself or another client's is a 422 naming ``into_id``; a merged ticket or a
    pending approval a 409."""
    target = db.session.scalar(
        scoped_select(Ticket, reseller_id=ticket.reseller_id).where(Ticket.id == target_id).with_for_update()
    )
    if target is None:
        raise Problem(422, "invalid_parameter", _("No ticket of yours has this id."), param="into_id")
    params = dict.fromkeys(
        (_("A ticket cannot be merged into itself."), _("Only tickets of the same client can be merged.")),
        "into_id",
    )
    try:
        merge(ticket, target)
    except TicketRefused as exc:
        raise refused(exc, params) from None
    return target

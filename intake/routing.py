"""Where a received message belongs: the desk its recipients name, the client user who
sent it, and the ticket its subject names.

Tenancy: the desk is found by an exact intake address among the message's recipients
(To, Cc, then the envelope). Addresses are unique within a reseller, not across
resellers; a message whose recipients name desks of two resellers is not routed at all
(nobody can tell whose it is). Everything after the desk is looked up within the desk's
reseller only, so reseller B's desk address never brings a message to reseller A, and a
user of B writing to A's address is a stranger to A.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from auth.identity import find_login
from auth.models import CLIENT_USER, Account
from core.extensions import db
from desk.models import Desk
from desk.ticket_models import Ticket
from desk.tickets import desk_serves_client
from intake.markers import ticket_from_subject


@dataclass(frozen=True)
class Route:
    """The desk, or ``None`` with the reason it could not be chosen."""

    desk: Desk | None
    reason: str = ""


def route(recipients: list[str]) -> Route:
    """The desk whose intake address is the first recipient that names one."""
    wanted = list(dict.fromkeys(r.strip().lower() for r in recipients if r and r.strip()))
    if not wanted:
        return Route(None, "no recipient")
    desks = db.session.scalars(
        select(Desk)
        .where(func.lower(Desk.intake_email).in_(wanted), Desk.archived_at.is_(None))
        .order_by(Desk.id)
    ).all()
    if not desks:
        return Route(None, "no desk receives these recipients")
    if len({desk.reseller_id for desk in desks}) > 1:
        return Route(None, "the recipients name desks of more than one reseller")
    by_address = {desk.intake_email.lower(): desk for desk in reversed(desks)}
    return Route(next(by_address[address] for address in wanted if address in by_address))


def sender_account(desk: Desk, email: str | None) -> Account | None:
    """The active client-user account of the desk's reseller with this e-mail, in a
    client the desk serves (several: the oldest account)."""
    if not email:
        return None
    login = find_login(desk.reseller_id, email)
    if login is None:
        return None
    accounts = db.session.scalars(
        select(Account)
        .where(
            Account.login_id == login.id,
            Account.reseller_id == desk.reseller_id,
            Account.kind == CLIENT_USER,
            Account.active.is_(True),
        )
        .order_by(Account.id)
    ).all()
    for account in accounts:
        if account.is_usable() and desk_serves_client(desk, account.client):
            return account
    return None


def named_ticket(account: Account, subject: str) -> Ticket | None:
    """The ticket of the account's client that the subject's ``[#number]`` names."""
    number = ticket_from_subject(subject)
    if number is None:
        return None
    return db.session.scalar(
        select(Ticket).where(
            Ticket.reseller_id == account.reseller_id,
            Ticket.client_id == account.client_id,
            Ticket.number == number,
        )
    )

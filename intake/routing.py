"""Where a received message belongs: the desk its recipients name, the client user who
sent it, and the ticket its subject names.

Tenancy: the desk is found by an exact intake address among the message's recipients
(To, Cc, then the envelope); failing that, an address at the domain of one reseller's
desk addresses goes to that reseller's default desk (``Desk.mail_default``). Addresses
are unique within a reseller, not across resellers; a message whose recipients name
desks of two resellers (or, for the default desk, domains of two resellers) is not
routed at all (nobody can tell whose it is). Everything after the desk is looked up
within the desk's reseller only, so reseller B's desk address never brings a message to
reseller A, and a user of B writing to A's address is a stranger to A.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from auth.identity import normalise_email
from auth.models import CLIENT_USER, Account, Login
from core.extensions import db
from desk.mail_markers import ticket_from_address, ticket_from_subject
from desk.models import Desk
from desk.ticket_models import Ticket
from desk.tickets import desk_serves_client


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
        return _default_desk(wanted)
    if len({desk.reseller_id for desk in desks}) > 1:
        return Route(None, "the recipients name desks of more than one reseller")
    by_address = {desk.intake_email.lower(): desk for desk in reversed(desks)}
    return Route(next(by_address[address] for address in wanted if address in by_address))


def _default_desk(wanted: list[str]) -> Route:
    """The default desk of the one reseller whose desk addresses share a recipient's domain."""
    domains = list(dict.fromkeys(address.rsplit("@", 1)[1] for address in wanted if "@" in address))
    if not domains:
        return Route(None, "no desk receives these recipients")
    resellers = set(
        db.session.scalars(
            select(Desk.reseller_id)
            .where(
                Desk.archived_at.is_(None),
                or_(*(func.lower(Desk.intake_email).endswith(f"@{d}", autoescape=True) for d in domains)),
            )
            .distinct()
        )
    )
    if len(resellers) > 1:
        return Route(None, "the domain is more than one reseller's")
    if not resellers:
        return Route(None, "no desk receives these recipients")
    desk = db.session.scalar(
        select(Desk).where(
            Desk.reseller_id == resellers.pop(), Desk.mail_default.is_(True), Desk.archived_at.is_(None)
        )
    )
    return Route(desk) if desk is not None else Route(None, "no desk receives these recipients")


def receives(address: str) -> bool:
    """Whether mail to ``address`` has somewhere to go: a desk's address, a ticket's signed
    reply address, or an address of a reseller's domain that has a default desk (the SMTP
    listener refuses any other recipient at RCPT, so strangers' spam is never stored)."""
    if ticket_from_address(address, current_app.config["SECRET_KEY"]) is not None:
        return True
    return route([address]).desk is not None


def _client_accounts(reseller_id: int, email: str | None) -> list[Account]:
    """The active client-user accounts of the reseller's login with this e-mail, oldest
    first, each with its login and client (one statement: the checks read both)."""
    if not email:
        return []
    return list(
        db.session.scalars(
            select(Account)
            .join(Login, Login.id == Account.login_id)
            .options(contains_eager(Account.login), joinedload(Account.client))
            .where(
                Login.reseller_id == reseller_id,
                Login.email == normalise_email(email),
                Account.reseller_id == reseller_id,
                Account.kind == CLIENT_USER,
                Account.active.is_(True),
            )
            .order_by(Account.id)
        ).unique()
    )


def sender_account(desk: Desk, email: str | None) -> Account | None:
    """The active client-user account of the desk's reseller with this e-mail, in a
    client the desk serves (several: the oldest account)."""
    for account in _client_accounts(desk.reseller_id, email):
        if account.is_usable() and desk_serves_client(desk, account.client):
            return account
    return None


def ticket_account(ticket: Ticket, email: str | None) -> Account | None:
    """The sender's usable account in the ticket's client: only the client's own users
    answer a ticket by e-mail, whatever address or marker the message carries."""
    for account in _client_accounts(ticket.reseller_id, email):
        if account.client_id == ticket.client_id and account.is_usable():
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

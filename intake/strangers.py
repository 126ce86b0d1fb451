"""People the intake does not know yet (seed 003, issue 14): the sender of a message who
is no user of a client the desk serves, and the people a message copies.

An unknown sender becomes, in this order:

1. a user of the client whose domain their address is at (``tenant.domains.link_by_domain``,
   default permissions of seed 002, no password: they log in with the e-mailed code);
2. when the reseller lets e-mail create clients (``Reseller.mail_creates_clients``, on by
   default): the responsible user of a new client, named after their domain (a corporate
   address, whose domain is added to the client) or after themselves (a webmail address,
   no domain), marked "criado por e-mail" for staff to complete, linked to the desk it
   wrote to; the desk's staff are told (``notify_new_client``);
3. otherwise nobody: the message waits in the unknown senders queue, where staff give it
   a client (``intake.views.unknown``).

A sender at a known client's domain whose client the desk does not serve, or who was
invited and has not accepted, is not written as: the message waits (and the user made
for it goes with the wait). At most ``MAX_CLIENTS_PER_HOUR`` clients a reseller's mail
creates in an hour; past that, new senders wait too.

People in Cc at the domain of the ticket's client become its users too and follow the
ticket, at most ``MAX_CC_PEOPLE`` made from one message (a Cc of a whole company is no
reason to create a hundred accounts); webmail and other companies' addresses are left
alone.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from auth import permissions as perm
from auth.identity import find_login
from auth.models import STAFF, Account
from core.branding import mail_identity
from core.extensions import db
from core.links import reseller_url
from core.mail import send_mail
from core.models import Reseller
from core.timeutil import utcnow
from desk.links import link_clients
from desk.models import Desk, DeskStaff
from desk.ticket_changes import follow
from desk.ticket_mail import STAFF_TICKET_ENDPOINT
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused, desk_serves_client
from intake import routing
from tenant import domains
from tenant.clients import create_client_from_email
from tenant.domain_names import name_of_domain
from tenant.models import Client

MAX_CC_PEOPLE = 40
# Clients one reseller's mail creates in an hour; more new senders than that wait for
# staff (forged senders must not fill the client list).
MAX_CLIENTS_PER_HOUR = 30


def _created_lately(reseller_id: int) -> int:
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        select(func.count())
        .select_from(Client)
        .where(
            Client.reseller_id == reseller_id, Client.created_by_email.is_(True), Client.created_at >= since
        )
    )


def account_for(desk: Desk, email: str | None, name: str) -> tuple[Account | None, Client | None]:
    """The account an unknown sender's message is written as, made now, and the client
    created for them (None when an existing client's); (None, None): it waits."""
    if not email:
        return None, None
    account = domains.link_by_domain(desk.reseller_id, email, name)
    if account is not None:
        usable = account.is_usable() and desk_serves_client(desk, account.client)
        return (account if usable else None), None
    reseller = db.session.get(Reseller, desk.reseller_id)
    if not reseller.mail_creates_clients or find_login(desk.reseller_id, email) is not None:
        # Off, or somebody the reseller knows (a deactivated user, a client this desk does
        # not serve): no second client for them; the message waits for staff.
        return None, None
    if _created_lately(desk.reseller_id) >= MAX_CLIENTS_PER_HOUR:
        return None, None  # a flood of new senders: the rest wait for staff
    domain = domains.domain_of_email(email)
    webmail = domain is None or domains.is_webmail(desk.reseller_id, domain)
    person = name or email.split("@", 1)[0]
    client = create_client_from_email(
        desk.reseller_id,
        trade_name=person if webmail else name_of_domain(domain),
        email=email,
        person_name=person,
        document_type="cpf" if webmail else "cnpj",
    )
    if not webmail:
        # Taken by a client being deleted: the new client stays without it.
        with contextlib.suppress(domains.DomainRejected):
            domains.add_domain(client, domain, actor=None)
    if not desk_serves_client(desk, client):
        link_clients(desk, [client.id], None)
    return db.session.get(Account, client.responsible_account_id), client


def notify_new_client(desk: Desk, client: Client, ticket: Ticket) -> int:
    """Tell the desk's staff who manage clients that an e-mail created ``client``: its
    registration is theirs to complete. How many were told."""
    reseller = db.session.get(Reseller, desk.reseller_id)
    staff = db.session.scalars(
        select(Account)
        .join(DeskStaff, DeskStaff.account_id == Account.id)
        .where(DeskStaff.desk_id == desk.id)
    ).all()
    people = [
        a
        for a in staff
        if a.kind == STAFF and a.is_usable() and a.role is not None and a.role.grants(perm.CLIENTS)
    ]
    link = reseller_url(reseller, STAFF_TICKET_ENDPOINT, ticket_id=ticket.id)
    subject = _("New client created by e-mail: %(name)s", name=client.trade_name)
    text = "\n\n".join(
        [
            _(
                "An e-mail from %(email)s to %(desk)s created the client %(name)s "
                "and opened ticket #%(number)d.",
                email=client.email,
                desk=desk.name,
                name=client.trade_name,
                number=ticket.number,
            ),
            _("Complete its registration (documents, address, plan) and mark it reviewed."),
            _("See the ticket: %(link)s", link=link),
        ]
    )
    for account in people:
        send_mail(account.email, subject, text, **mail_identity(reseller), automatic=True)
    return len(people)


def _at_domain_of(ticket: Ticket, address: str) -> bool:
    """Whether the address is at a domain of the ticket's own client (not webmail)."""
    domain = domains.domain_of_email(address)
    if domain is None or domains.is_webmail(ticket.reseller_id, domain):
        return False
    owner = domains.client_of_domain(ticket.reseller_id, domain)
    return owner is not None and owner.id == ticket.client_id


def copied_people(ticket: Ticket, addresses: list[str], skip: set[str]) -> int:
    """Make the people copied at the ticket's client's domain its users (at most
    ``MAX_CC_PEOPLE`` new ones) and followers of the ticket; how many were made."""
    made = 0
    for address in dict.fromkeys(a.lower() for a in addresses):
        if address in skip:
            continue
        account = routing.ticket_account(ticket, address)
        if account is None:
            if made >= MAX_CC_PEOPLE or not _at_domain_of(ticket, address):
                continue
            account = domains.link_by_domain(ticket.reseller_id, address, "")
            if account is None:
                continue
            made += 1
        try:
            follow(ticket, account)
        except TicketRefused:
            continue
    return made

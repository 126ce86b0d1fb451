"""The e-mail of a public reply: to the requester and the followers (never the author),
in the reseller's brand, with a link on the reseller's canonical URL.

A client's copy is threaded for the intake (issue 14): its Reply-To is the ticket's
signed reply address (on ``MAIL_REPLY_DOMAIN``, else the desk's own address domain),
its body ends with the signed ``ref:`` marker, its subject carries ``[#number]`` and its
In-Reply-To / References name the thread's earlier messages, so the answer lands on the
ticket whatever the client's mail program keeps. Staff copies carry none of it: staff
answer in the panel."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from auth import permissions as perm
from auth.models import STAFF, Account
from core.branding import mail_identity
from core.extensions import db
from core.links import reseller_url
from core.mail import in_product_language, send_mail, thread_references
from core.models import Reseller
from desk import hooks
from desk.mail_markers import body_marker_html, body_marker_text, reply_address
from desk.staffing import works_desk
from desk.ticket_changes import followers
from desk.ticket_models import Ticket, TicketEntry

# The staff's ticket page, registered by the desk views (desk.init_app): the rules name
# no view module.
STAFF_TICKET_ENDPOINT = "desk_tickets.ticket_page"
# The client's workspace home: where a client user is sent when no package has registered
# a page for a ticket (desk.hooks.register_client_ticket_page; the portal does).
CLIENT_HOME_ENDPOINT = "tenant.home"


def client_ticket_url(reseller: Reseller, ticket: Ticket) -> str:
    """The address of ``ticket`` for a user of its client, on the reseller's canonical URL."""
    endpoint = hooks.client_ticket_page()
    if endpoint is None:
        return reseller_url(reseller, CLIENT_HOME_ENDPOINT)
    return reseller_url(reseller, endpoint, ticket_id=ticket.id)


def recipients(ticket: Ticket, author_id: int | None) -> list[Account]:
    people = {a.id: a for a in followers(ticket)}
    if ticket.requester_account_id is not None:
        requester = db.session.get(Account, ticket.requester_account_id)
        if requester is not None:
            people.setdefault(requester.id, requester)
    return [a for a in people.values() if a.id != author_id and a.is_usable() and _may_read(a, ticket)]


def _may_read(account: Account, ticket: Ticket) -> bool:
    """A staff follower still works the desk and holds *service desks*: one taken off the
    desk (or whose role lost the permission) no longer gets its replies."""
    if account.kind != STAFF:
        return True
    return (
        account.role is not None and account.role.grants(perm.DESKS) and works_desk(account, ticket.desk_id)
    )


def thread_of(ticket: Ticket) -> str:
    """The ticket's thread in the mail ledger (``core.models.ThreadMessage``)."""
    return f"ticket:{ticket.id}"


def ticket_of_thread(thread: str | None) -> int | None:
    """The ticket id of a ``ticket:<id>`` thread (None: another thread, or none)."""
    prefix = "ticket:"
    if not thread or not thread.startswith(prefix):
        return None
    number = thread.removeprefix(prefix)
    return int(number) if number.isdigit() else None


def reply_domain(ticket: Ticket) -> str | None:
    """Where the ticket's reply address lives: the platform's reply domain, else the
    domain of the desk's own intake address (None: the desk receives no mail)."""
    configured = current_app.config.get("MAIL_REPLY_DOMAIN")
    if configured:
        return configured
    address = ticket.desk.intake_email
    return address.rsplit("@", 1)[1] if address and "@" in address else None


def client_threading(ticket: Ticket, references: list[str] | None = None) -> dict:
    """The ``send_mail`` arguments that thread a client's copy of a ticket mail
    (``references``: the thread's Message-IDs when the caller knows them, else read)."""
    secret = current_app.config["SECRET_KEY"]
    if references is None:
        references = thread_references(ticket.reseller_id, thread_of(ticket))
    out = {
        "thread": thread_of(ticket),
        "references": references,
        "in_reply_to": references[-1] if references else None,
        "marker": (body_marker_text(ticket.id, secret), body_marker_html(ticket.id, secret)),
    }
    domain = reply_domain(ticket)
    if domain:
        out["reply_to"] = reply_address(ticket.id, secret, domain)
    return out


@in_product_language
def send_reply(ticket: Ticket, entry: TicketEntry) -> int:
    """Queue the reply's e-mail to each recipient (sent after commit); how many."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    subject = _("[#%(number)d] %(subject)s", number=ticket.number, subject=ticket.subject)
    people = recipients(ticket, entry.author_account_id)
    threading = None
    for account in people:
        if account.kind == STAFF:
            link = reseller_url(reseller, STAFF_TICKET_ENDPOINT, ticket_id=ticket.id)
        else:
            link = client_ticket_url(reseller, ticket)
        text = "\n\n".join(
            [
                _(
                    "New reply on ticket #%(number)d, %(subject)s:",
                    number=ticket.number,
                    subject=ticket.subject,
                ),
                entry.body or "",
                _("See the ticket: %(link)s", link=link),
            ]
        )
        identity = mail_identity(reseller)
        if account.kind != STAFF:
            threading = threading or client_threading(ticket)  # once: before this reply's own copies
            identity |= threading
        send_mail(account.email, subject, text, **identity)
    return len(people)

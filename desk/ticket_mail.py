"""The e-mail of a public reply: to the requester and the followers (never the author),
in the reseller's brand, with a link on the reseller's canonical URL."""

from __future__ import annotations

from flask_babel import gettext as _

from auth import permissions as perm
from auth.models import STAFF, Account
from core.branding import mail_identity
from core.extensions import db
from core.links import reseller_url
from core.mail import send_mail
from core.models import Reseller
from desk.staffing import works_desk
from desk.ticket_changes import followers
from desk.ticket_models import Ticket, TicketEntry

# The staff's ticket page, registered by the desk views (desk.init_app): the rules name
# no view module.
STAFF_TICKET_ENDPOINT = "desk_tickets.ticket_page"
# The client portal's ticket page does not exist yet (issue 13 leaves the portal to a
# later step): clients are sent to their workspace home, /app/, until it does.
CLIENT_HOME_ENDPOINT = "tenant.home"


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


def send_reply(ticket: Ticket, entry: TicketEntry) -> int:
    """Queue the reply's e-mail to each recipient (sent after commit); how many."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    subject = _("[#%(number)d] %(subject)s", number=ticket.number, subject=ticket.subject)
    people = recipients(ticket, entry.author_account_id)
    for account in people:
        if account.kind == STAFF:
            link = reseller_url(reseller, STAFF_TICKET_ENDPOINT, ticket_id=ticket.id)
        else:
            link = reseller_url(reseller, CLIENT_HOME_ENDPOINT)
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
        send_mail(account.email, subject, text, **mail_identity(reseller))
    return len(people)

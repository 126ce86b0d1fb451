"""The answer to a ticket opened by e-mail (issue 14): "we received it, it is #1234",
threaded like every ticket mail (reply address, body marker, In-Reply-To the client's
own message), so the client's next message lands on the ticket.

It is automatic, so it is sent only to a person: never to a message a machine wrote
(the caller checks ``intake.headers.is_automatic``), never to an address a bounce
declared dead (``core.mail.send_mail`` leaves it out), and it says so in its headers
(``Auto-Submitted: auto-generated``) so the other side's robots stay quiet too.
"""

from __future__ import annotations

from flask_babel import gettext as _

from core.branding import mail_identity
from core.extensions import db
from core.mail import send_mail
from core.models import Reseller
from desk.ticket_mail import client_threading, client_ticket_url
from desk.ticket_models import Ticket


def acknowledge(ticket: Ticket, account, message_id: str | None) -> str | None:
    """Queue the acknowledgement to the requester; its Message-ID (None: not sent)."""
    reseller = db.session.get(Reseller, ticket.reseller_id)
    subject = _("[#%(number)d] %(subject)s", number=ticket.number, subject=ticket.subject)
    text = "\n\n".join(
        [
            _(
                "We received your message and opened ticket #%(number)d, %(subject)s.",
                number=ticket.number,
                subject=ticket.subject,
            ),
            _("To add anything, just answer this e-mail."),
            _("Follow your ticket at %(link)s", link=client_ticket_url(reseller, ticket)),
        ]
    )
    # A new ticket's thread is the client's message alone: nothing to read.
    threading = client_threading(ticket, references=[message_id] if message_id else [])
    return send_mail(account.email, subject, text, **(mail_identity(reseller) | threading), automatic=True)

"""Which ticket a received message answers (issue 14), in the issue's order of trust:

1. a ticket's reply address among the recipients (``reply+<id>-<signature>@...``);
2. a Message-ID it answers (In-Reply-To, then References) that we sent or received on a
   ticket's thread (``core.models.ThreadMessage``);
3. the signed ``ref:`` marker in its body (text or HTML, quoted or not: read before the
   history is trimmed), which survives programs that rewrite headers and subjects.

The ``[#1234]`` subject marker is only a hint anyone can type: it is read later, within
the routed desk's reseller and the sender's own client (``intake.routing.named_ticket``).

Tenancy: a candidate of another reseller than the desk the recipients name is dropped
(reseller A's desk never receives a message into B's ticket), and the caller checks that
the sender is a user of the ticket's client before writing anything on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.extensions import db
from core.mail import threads_of
from desk.mail_markers import ticket_from_address, ticket_from_body
from desk.ticket_mail import ticket_of_thread
from desk.ticket_models import Ticket
from intake.parsing import ParsedMessage


@dataclass(frozen=True)
class Candidate:
    ticket: Ticket
    via: str  # "reply-address", "references", "body-marker"


def _candidate_ids(message: ParsedMessage, recipients: list[str]) -> list[tuple[int, str]]:
    secret = current_app.config["SECRET_KEY"]
    found: list[tuple[int, str]] = []
    for address in recipients:
        ticket_id = ticket_from_address(address, secret)
        if ticket_id is not None:
            found.append((ticket_id, "reply-address"))
    by_message_id = {row.message_id: row for row in threads_of(message.answers)}
    for message_id in message.answers:  # the most recent answer first
        row = by_message_id.get(message_id)
        ticket_id = ticket_of_thread(row.thread) if row is not None else None
        if ticket_id is not None:
            found.append((ticket_id, "references"))
    for body in (message.text, message.html):
        ticket_id = ticket_from_body(body, secret)
        if ticket_id is not None:
            found.append((ticket_id, "body-marker"))
    return found


def reply_address_ticket(recipients: list[str]) -> Ticket | None:
    """The ticket of the first valid signed reply address among the recipients: it
    decides the reseller before any desk address does (a desk of another reseller among
    the recipients never takes a reply that names this ticket)."""
    secret = current_app.config["SECRET_KEY"]
    for address in recipients:
        ticket_id = ticket_from_address(address, secret)
        ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is not None:
            return ticket
    return None


def candidates(message: ParsedMessage, recipients: list[str], reseller_id: int | None) -> list[Candidate]:
    """The tickets the message says it answers, most trusted first, each once; only the
    routed reseller's when the recipients name one."""
    out: list[Candidate] = []
    seen: set[int] = set()
    for ticket_id, via in _candidate_ids(message, recipients):
        if ticket_id in seen:
            continue
        seen.add(ticket_id)
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or (reseller_id is not None and ticket.reseller_id != reseller_id):
            continue
        out.append(Candidate(ticket, via))
    return out

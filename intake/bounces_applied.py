"""What a machine's mail does (issue 14): a delivery report about a mail we sent marks
its permanently failed addresses dead for that mail's reseller (no more mail goes to
them until staff clear them) and tells the ticket the mail belonged to; anything else a
machine wrote (a report we cannot place, a mailer-daemon, a no-reply sender, our own
mail coming back) is kept and ignored.

A report is believed only when it quotes the Message-ID of a mail we sent
(``core.models.ThreadMessage``), and only for the addresses that mail went to (the
ledger keeps their keyed fingerprints): a recipient who knows one of our Message-IDs
cannot use it to silence anybody else. At most ``MAX_REPORTED`` of them count. Login
codes, password links and invitations are sent whatever a bounce said (``core.mail``).
"""

from __future__ import annotations

from email.message import EmailMessage

from core.extensions import db
from core.mail import mark_undeliverable, recipient_key, threads_of
from core.scope import scoped
from desk.states import EventType
from desk.ticket_mail import ticket_of_thread
from desk.ticket_models import Ticket
from desk.tickets import add_event
from intake.bounces import Bounce, parse_report
from intake.models import InboundMessage
from intake.states import IntakeOutcome

# The failed recipients one report may name (a mail of ours goes to a few people).
MAX_REPORTED = 10


def apply_report(row: InboundMessage, email: EmailMessage, reason: str) -> str:
    """The outcome of a machine's message (``reason``: why it counts as one)."""
    bounce = parse_report(email)
    if bounce is None or not bounce.recipients:
        row.last_error = f"written by a machine ({reason})"
        return IntakeOutcome.IGNORED_AUTOMATIC
    sent = threads_of([bounce.original_message_id or ""], sent_only=True)
    if not sent:
        row.last_error = "a delivery report about no message we sent"
        return IntakeOutcome.IGNORED_AUTOMATIC
    ledger = sent[0]
    # Only the addresses that mail went to, and a handful at most: a report listing
    # anybody else is somebody trying to silence them.
    sent_to = set(ledger.recipient_keys or [])
    failed_here = [r for r in bounce.recipients if recipient_key(r.address) in sent_to][:MAX_REPORTED]
    if not failed_here:
        row.last_error = "a delivery report about addresses that mail did not go to"
        return IntakeOutcome.IGNORED_AUTOMATIC
    row.reseller_id = ledger.reseller_id
    db.session.flush()
    with scoped(ledger.reseller_id):
        for failed in failed_here:
            if failed.permanent:
                mark_undeliverable(ledger.reseller_id, failed.address, failed.status, failed.diagnostic)
        ticket_id = ticket_of_thread(ledger.thread)
        ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
        if ticket is not None and ticket.reseller_id == ledger.reseller_id:
            for failed in failed_here:
                add_event(ticket, EventType.MAIL_BOUNCE, after=_described(failed))
            row.ticket_id, row.desk_id, row.client_id = ticket.id, ticket.desk_id, ticket.client_id
        db.session.flush()
    row.last_error = _summary(bounce)[:500]
    return IntakeOutcome.BOUNCE


def _described(failed) -> dict:
    return {
        "address": failed.address,
        "status": failed.status,
        "permanent": failed.permanent,
        "diagnostic": failed.diagnostic[:300],
    }


def _summary(bounce: Bounce) -> str:
    return "; ".join(f"{r.address} {r.status}" for r in bounce.recipients)

"""Processing one stored message, once: parse it, route it to a desk, and open a
ticket or add the client's reply to one.

- Idempotent: the row is locked and marked processed; its ``dedupe_key`` (Message-ID,
  or the digest of the bytes) is claimed on the unique column, so a second copy of the
  same message ends ``duplicate`` whichever worker reads it.
- No desk among the recipients: ``unroutable`` (the reseller's default desk comes in a
  later increment of issue 14).
- A sender who is no active user of a client the desk serves: ``unknown_sender`` (the
  client or user created from the sender comes in a later increment).
- Otherwise, a subject naming a ticket of the sender's client (``[#1234]``) adds a public
  reply by that user; any other message opens a ticket. Either is written under the
  reseller's own scope, as that user (``desk.tickets.written_by``). A refusal of the
  ticket rules (a forbidden attachment type, more files than allowed) is ``refused``,
  its reason kept in ``last_error``; the raw message stays in storage.
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from core.extensions import db
from core.inbox_rows import apply_once
from core.scope import bypass, scoped
from core.storage import ObjectMissing, get_storage
from desk.replies import public_reply
from desk.ticket_files import attach
from desk.tickets import MAX_BODY, MAX_SUBJECT, TicketRefused, open_ticket, written_by
from intake import routing
from intake.inbox import BYPASS
from intake.models import InboundMessage
from intake.parsing import ParsedMessage, parse
from intake.states import IntakeOutcome

ALREADY_PROCESSED = "already processed"


def process(row_id: int, *, skip_locked: bool = False) -> str:
    """Process one inbox row, once. Returns its outcome (or why nothing was done)."""
    with bypass(BYPASS):
        return apply_once(
            InboundMessage, row_id, _process, already=ALREADY_PROCESSED, skip_locked=skip_locked
        )


def _read(row: InboundMessage) -> bytes | None:
    try:
        with get_storage().open(row.storage_key) as stored:
            return stored.read()
    except ObjectMissing:
        return None


def _process(row: InboundMessage) -> str:
    raw = _read(row)
    if raw is None:
        row.last_error = "the stored message is missing"
        return IntakeOutcome.UNREADABLE
    message = parse(raw)
    row.message_id = message.message_id
    if not _claim(row, message.message_id or f"sha256:{row.sha256}"):
        return IntakeOutcome.DUPLICATE
    found = routing.route([*message.recipients, *(row.envelope_recipients or [])])
    if found.desk is None:
        row.last_error = found.reason
        return IntakeOutcome.UNROUTABLE
    desk = found.desk
    row.reseller_id, row.desk_id = desk.reseller_id, desk.id
    db.session.flush()  # the row is the reseller's now: seen in its scope below
    with scoped(desk.reseller_id):
        account = routing.sender_account(desk, message.sender)
        if account is None:
            row.last_error = f"no user of a client of this desk is {message.sender or 'the sender'}"[:500]
            return IntakeOutcome.UNKNOWN_SENDER
        try:
            with db.session.begin_nested(), written_by(account.id):
                outcome, ticket_id = _write(desk, account, message)
        except TicketRefused as refused:
            row.last_error = refused.message[:500]
            return IntakeOutcome.REFUSED
        db.session.flush()  # the ticket's rows are written under the reseller's scope
    row.ticket_id = ticket_id
    return outcome


def _claim(row: InboundMessage, key: str) -> bool:
    """Whether this row is the first copy of its message (the unique key is taken)."""
    try:
        with db.session.begin_nested():
            row.dedupe_key = key
            db.session.flush()
    except IntegrityError:
        row.dedupe_key = None
        return False
    return True


def _files(message: ParsedMessage) -> list[FileStorage]:
    return [FileStorage(stream=io.BytesIO(a.content), filename=a.filename) for a in message.attachments]


def _write(desk, account, message: ParsedMessage) -> tuple[str, int]:
    body = message.text[:MAX_BODY]
    ticket = routing.named_ticket(account, message.subject)
    if ticket is not None:
        public_reply(ticket, body or _("(attachments only)"), account, files=_files(message))
        return IntakeOutcome.REPLY_ADDED, ticket.id
    subject = message.subject[:MAX_SUBJECT] or _("(no subject)")
    ticket = open_ticket(desk, account.client, account, subject, body, by_client=True)
    attach(ticket, None, _files(message), by_account_id=account.id)
    return IntakeOutcome.TICKET_OPENED, ticket.id

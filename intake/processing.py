"""Processing one stored message, once: parse it, recognise a machine's mail, find the
ticket it answers or the desk it is for, and write it there as its sender.

- Idempotent: the row is locked and marked processed; its ``dedupe_key`` (Message-ID,
  or the digest of the bytes) is claimed on the unique column, so a second copy of the
  same message ends ``duplicate`` whichever worker reads it.
- At most ``SENDER_PER_MINUTE`` messages a minute from one sender are processed; the
  rest end ``rate_limited`` (kept, never answered).
- A machine's mail (``intake.headers.is_automatic``): a delivery report about a mail we
  sent marks its dead addresses (``intake.bounces_applied``); a report, a null or robot
  sender, or our own mail coming back opens nothing (``ignored_automatic``). An
  out-of-office note on a ticket is recorded on its timeline without reopening it. Any
  other automatic message (a list, ``Auto-Submitted``...) is taken in like a person's,
  but nothing automatic is ever sent back to it.
- The ticket it answers (``intake.threads``: reply address, Message-IDs, body marker;
  then the subject's ``[#1234]`` within the sender's client), when the sender is a user
  of that ticket's client: a public reply, its quoted history trimmed. A reply to a
  merged ticket goes to the ticket it was merged into; one to a ticket finished longer
  ago than its desk's reopen window opens a new ticket.
- Otherwise the desk its recipients name (or the reseller's default desk for an unknown
  address of its domain): a new ticket, acknowledged to the sender by a threaded mail.
- No desk: ``unroutable``; a sender who is no user of a client the desk serves:
  ``unknown_sender``. A refusal of the ticket rules is ``refused``, its reason kept.

The raw message stays in storage: staff download it from the timeline entry it became.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage, Headers

from core.extensions import db
from core.inbox_rows import apply_next, apply_once
from core.mail import mail_domain, record_received
from core.scope import bypass, scoped
from core.storage import ObjectMissing, get_storage
from desk.approvals import request_for_desk_rule
from desk.mail_markers import strip_body_markers
from desk.replies import public_reply
from desk.states import EventType, StatusKind
from desk.ticket_changes import may_reopen
from desk.ticket_files import attach
from desk.ticket_mail import thread_of
from desk.ticket_models import Ticket
from desk.tickets import (
    MAX_BODY,
    MAX_SUBJECT,
    TicketRefused,
    add_event,
    first_entry_id,
    is_finished,
    open_ticket,
    written_by,
)
from intake import routing, strangers, threads
from intake.acknowledgement import acknowledge
from intake.bounces_applied import apply_report
from intake.headers import AutomaticReason, dmarc_failed, is_automatic, is_out_of_office
from intake.html import sanitise
from intake.html_quotes import new_part
from intake.inbox import BYPASS
from intake.models import InboundMessage
from intake.parsing import ParsedMessage, Unparseable, parse
from intake.quoting import trim_reply
from intake.states import IntakeOutcome

ALREADY_PROCESSED = "already processed"
SENDER_PER_MINUTE = 50
# The files of one e-mail a ticket keeps (an Outlook signature alone brings several).
MAIL_MAX_FILES = 20
# A machine's mail that never opens nor answers a ticket.
MACHINE_MAIL = frozenset(
    {
        AutomaticReason.REPORT,
        AutomaticReason.NULL_SENDER,
        AutomaticReason.ROBOT_SENDER,
        AutomaticReason.OWN_MESSAGE,
    }
)


def process(row_id: int, *, skip_locked: bool = False) -> str:
    """Process one inbox row, once. Returns its outcome (or why nothing was done)."""
    with bypass(BYPASS):
        return apply_once(
            InboundMessage, row_id, _process, already=ALREADY_PROCESSED, skip_locked=skip_locked
        )


def process_next() -> tuple[int, str] | None:
    """Process the oldest stored message never tried yet that no other worker holds:
    (its id, its outcome), or None when there is none (PostgreSQL only, see
    ``intake.draining``). A failure is recorded on the row and raised as
    ``core.inbox_rows.RowFailed``."""
    with bypass(BYPASS):
        return apply_next(InboundMessage, (InboundMessage.attempts == 0,), _process)


def _read(row: InboundMessage) -> bytes | None:
    try:
        with get_storage().open(row.storage_key) as stored:
            return stored.read()
    except ObjectMissing:
        return None


def own_domains() -> tuple[str, ...]:
    """The domains our own Message-IDs and reply addresses are minted on."""
    return tuple(d for d in (mail_domain(), current_app.config.get("MAIL_REPLY_DOMAIN")) if d)


def _process(row: InboundMessage) -> str:
    raw = _read(row)
    if raw is None:
        row.last_error = "the stored message is missing"
        return IntakeOutcome.UNREADABLE
    try:
        message = parse(raw)
    except Unparseable as unparseable:
        row.last_error = str(unparseable)
        return IntakeOutcome.UNREADABLE
    sender = (message.sender or "")[:320] or None
    if dmarc_failed(message.email, current_app.config.get("MAIL_AUTHSERV_ID")):
        message = dataclasses.replace(message, sender=None, sender_name="")  # a forged From
    if not _claim(row, message.message_id or f"sha256:{row.sha256}", message.message_id, sender):
        return IntakeOutcome.DUPLICATE
    if _over_limit(row):
        row.last_error = f"more than {SENDER_PER_MINUTE} messages a minute from this sender"
        return IntakeOutcome.RATE_LIMITED
    automatic = is_automatic(message.email, own_domains())
    if automatic in MACHINE_MAIL:
        return apply_report(row, message.email, automatic)
    # The envelope when there is one (the SMTP listener's, which accepted each recipient),
    # else the headers; a ticket's signed reply address decides the reseller first.
    recipients = list(row.envelope_recipients or message.recipients)
    replied = threads.reply_address_ticket(recipients)
    found = routing.Route(replied.desk) if replied is not None else routing.route(recipients)
    ticket, account = _answered_ticket(message, recipients, found.desk)
    desk = ticket.desk if ticket is not None else found.desk
    if desk is None and automatic is not None:
        row.last_error = f"written by a machine ({automatic}); {found.reason}"
        return IntakeOutcome.IGNORED_AUTOMATIC
    if desk is None:
        row.last_error = found.reason
        return IntakeOutcome.UNROUTABLE
    row.reseller_id, row.desk_id = desk.reseller_id, desk.id
    row.subject = message.subject[:200] or None
    db.session.flush()  # the row is the reseller's now: seen in its scope below
    with scoped(desk.reseller_id):
        return _take_in(row, desk, message, ticket, account, automatic)


class _Waits(Exception):
    """The sender is nobody the intake may write as: the message waits for staff."""


def _take_in(row: InboundMessage, desk, message: ParsedMessage, ticket, account, automatic) -> str:
    """Write the routed message on the desk, as its sender (made now if unknown and the
    reseller allows it), under the reseller's scope."""
    if account is None:
        account = routing.sender_account(desk, message.sender)
        if account is None and automatic is not None:
            row.last_error = f"written by a machine ({automatic}), from no user of this desk's clients"
            return IntakeOutcome.IGNORED_AUTOMATIC
        ticket = routing.named_ticket(account, message.subject) if account is not None else None
    created = None
    try:
        with db.session.begin_nested():
            if account is None:
                account, created = strangers.account_for(desk, message.sender, message.sender_name)
                if account is None:
                    raise _Waits
            with written_by(account.id):
                outcome, ticket, entry_id = _write(desk, account, message, ticket, automatic)
                if ticket is not None and outcome != IntakeOutcome.AUTO_REPLY:
                    strangers.copied_people(ticket, message.cc, {account.email.lower()})
    except _Waits:
        row.last_error = f"no user of a client of this desk is {message.sender or 'the sender'}"[:500]
        return IntakeOutcome.UNKNOWN_SENDER
    except TicketRefused as refused:
        row.last_error = refused.message[:500]
        return IntakeOutcome.REFUSED
    if ticket is not None and message.message_id:
        record_received(ticket.reseller_id, message.message_id, thread_of(ticket))
    if outcome == IntakeOutcome.TICKET_OPENED and automatic is None:
        acknowledge(ticket, account, message.message_id)
    if created is not None and ticket is not None:
        strangers.notify_new_client(desk, created, ticket)
    db.session.flush()  # the ticket's rows are written under the reseller's scope
    if ticket is not None:
        row.ticket_id, row.client_id = ticket.id, ticket.client_id
    row.entry_id = entry_id
    return outcome


def _claim(row: InboundMessage, key: str, message_id: str | None, sender: str | None) -> bool:
    """Whether this row is the first copy of its message (the unique key is taken); the
    row keeps its Message-ID and sender either way."""
    try:
        with db.session.begin_nested():
            row.message_id, row.sender, row.dedupe_key = message_id, sender, key
            db.session.flush()
    except IntegrityError:
        row.message_id, row.sender, row.dedupe_key = message_id, sender, None
        return False
    return True


def _over_limit(row: InboundMessage) -> bool:
    """Whether ``SENDER_PER_MINUTE`` earlier messages of this sender arrived in the
    minute before this one."""
    if not row.sender:
        return False
    earlier = db.session.scalar(
        select(func.count())
        .select_from(InboundMessage)
        .where(
            InboundMessage.sender == row.sender,
            InboundMessage.received_at > row.received_at - timedelta(minutes=1),
            InboundMessage.received_at <= row.received_at,
            InboundMessage.id < row.id,
        )
    )
    return earlier >= SENDER_PER_MINUTE


def _answered_ticket(message: ParsedMessage, recipients: list[str], desk):
    """The ticket the message answers and the sender's account in its client, or Nones."""
    reseller_id = desk.reseller_id if desk is not None else None
    for candidate in threads.candidates(message, recipients, reseller_id):
        with scoped(candidate.ticket.reseller_id):
            account = routing.ticket_account(candidate.ticket, message.sender)
        if account is not None:
            return candidate.ticket, account
    return None, None


def _attach_each(ticket: Ticket, entry, message: ParsedMessage, account) -> None:
    """Store the message's files one by one: a file the ticket rules refuse (its type, its
    size) is left out, and so is every file past ``MAIL_MAX_FILES``; the timeline says
    which and why. The message itself is never lost for a file."""
    refused = []
    for number, part in enumerate(message.attachments):
        if number >= MAIL_MAX_FILES:
            too_many = _("more than %(n)d files", n=MAIL_MAX_FILES)
            refused.append({"name": part.filename[:120], "reason": too_many})
            continue
        headers = Headers([("Content-ID", part.content_id)] if part.content_id else [])
        upload = FileStorage(stream=io.BytesIO(part.content), filename=part.filename, headers=headers)
        try:
            with db.session.begin_nested():
                attach(ticket, entry, [upload], by_account_id=account.id)
        except TicketRefused as refusal:
            refused.append({"name": part.filename[:120], "reason": refusal.message[:200]})
    if refused:
        add_event(ticket, EventType.MAIL_FILES_REFUSED, after={"files": refused})


def _bodies(message: ParsedMessage) -> tuple[str, str | None]:
    """The text to store (quoted history and signature trimmed) and the sanitised HTML of
    the same new part (None: no HTML, or its history could not be cut from it)."""
    whole = strip_body_markers(message.text).strip()
    text = trim_reply(whole, message.subject)
    if not message.html:
        return text[:MAX_BODY], None
    html = message.html if text == whole else new_part(message.html)
    clean = sanitise(html, with_text=False) if html else None
    return text[:MAX_BODY], (clean.html.strip() or None) if clean is not None and clean.html else None


def _live(ticket: Ticket) -> Ticket | None:
    """The ticket a reply should land on: a merged one's survivor; None when it is
    finished beyond its reopen window (the reply opens a new ticket)."""
    seen = set()
    while ticket.status_kind == StatusKind.MERGED and ticket.merged_into_id and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = db.session.get(Ticket, ticket.merged_into_id)
    if ticket.status_kind == StatusKind.MERGED or (is_finished(ticket) and not may_reopen(ticket)):
        return None
    return ticket


def _write(desk, account, message: ParsedMessage, ticket: Ticket | None, automatic):
    """(outcome, ticket, timeline entry id) of the message written as ``account``."""
    if ticket is not None and is_out_of_office(message.email):
        entry = add_event(ticket, EventType.MAIL_AUTO_REPLY, after={"subject": message.subject[:200]})
        db.session.flush()
        return IntakeOutcome.AUTO_REPLY, ticket, entry.id
    if ticket is None and automatic is not None and is_out_of_office(message.email):
        return IntakeOutcome.IGNORED_AUTOMATIC, None, None
    body, html = _bodies(message)
    live = _live(ticket) if ticket is not None else None
    if live is not None:
        entry = public_reply(live, body or _("(attachments only)"), account)
        entry.body_html = html
        _attach_each(live, entry, message, account)
        return IntakeOutcome.REPLY_ADDED, live, entry.id
    subject = message.subject[:MAX_SUBJECT] or _("(no subject)")
    opened = open_ticket(desk, account.client, account, subject, body, by_client=True, description_html=html)
    request_for_desk_rule(opened)
    _attach_each(opened, None, message, account)
    db.session.flush()
    return IntakeOutcome.TICKET_OPENED, opened, first_entry_id(opened)

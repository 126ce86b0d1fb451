"""Outgoing mail: SMTP when ``SMTP_URL`` is set, else an outbox folder and the log.

:func:`send_mail` only queues; delivery happens in the ``mail`` job after commit.
``SMTP_URL`` looks like ``smtp://user:pass@host:587?starttls=1`` or ``smtps://...``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import smtplib
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import wraps
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from core import jobs
from core.extensions import db
from core.models import ThreadMessage, UndeliverableAddress
from core.scope import scoped
from core.timeutil import utcnow

log = logging.getLogger(__name__)


def in_product_language(compose):
    """Decorator of a function that writes mail to people: during an API request (a
    program's, whose ``Accept-Language`` no recipient chose; English by default) it writes
    in the product's language (``BABEL_DEFAULT_LOCALE``), elsewhere in the request's."""

    @wraps(compose)
    def wrapped(*args, **kwargs):
        if has_request_context() and g.get("api_client_id") is not None:
            with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pt_BR")):
                return compose(*args, **kwargs)
        return compose(*args, **kwargs)

    return wrapped


def send_mail(
    to: str | list[str],
    subject: str,
    text: str,
    *,
    sender_name: str | None = None,
    reply_to: str | None = None,
    brand: dict | None = None,
    reseller_id: int | None = None,
    thread: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] | list[str] = (),
    marker: tuple[str, str] | None = None,
    automatic: bool = False,
) -> str | None:
    """Queue an e-mail, delivered once the current transaction commits; its Message-ID,
    or None when no recipient is left (ticket mail and automatic notices skip the
    addresses a bounce declared dead; other mail, such as login codes, never does).

    ``brand`` (``core.branding.brand_of``: name, colours, absolute logo URL) adds an
    HTML part drawn in the reseller's brand around the same text; pass
    ``**core.branding.mail_identity(reseller)`` to set it with the sender, reply-to and
    reseller.

    With a ``reseller_id``, the Message-ID (minted here, so it is known before the
    mail leaves) is kept in ``thread_messages`` with its ``thread`` (e.g. ``ticket:42``)
    for threading replies and believing bounces. ``in_reply_to`` / ``references`` thread
    the mail in the reader's client; ``marker`` is a reference line (text, hidden HTML)
    put at the end of the body; ``automatic`` marks a notice no person wrote
    (``Auto-Submitted: auto-generated``, RFC 3834), so well-behaved robots never answer it.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    if reseller_id is not None and (thread is not None or automatic):
        # Ticket mail and automatic notices skip dead addresses; a login code, a password
        # link or an invitation is always sent (a bounce must never lock anybody out).
        recipients = deliverable(reseller_id, recipients)
        if not recipients:
            return None
    message_id = make_msgid(domain=mail_domain())
    message = {
        "to": recipients,
        "subject": subject,
        "text": text,
        "sender_name": sender_name,
        "reply_to": reply_to,
        "brand": brand,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": list(references),
        "marker": list(marker) if marker else None,
        "automatic": automatic,
        # Written to the ledger when the transaction commits (_write_ledger).
        "ledger": {"reseller_id": reseller_id, "thread": thread} if reseller_id is not None else None,
    }
    jobs.enqueue("core.mail.deliver", message, queue="mail", retries=5)  # DELIVER
    return message_id


DELIVER = "core.mail.deliver"


def init_app(app) -> None:
    if not event.contains(Session, "before_commit", _write_ledger):
        event.listen(Session, "before_commit", _write_ledger)


def _write_ledger(session: Session) -> None:
    """The Message-IDs of the mails this transaction queued, in one INSERT as it commits
    (a sweep's hundred notices are one statement), in the transaction's own scope: the
    reseller's, or a named bypass. A rolled-back transaction sends nothing and records
    nothing: both come from the same list of pending jobs."""
    rows = []
    for spec in jobs.pending(session, DELIVER):
        message = spec.args[0] if spec.args else {}
        ledger = message.get("ledger")
        if ledger and not message.get("ledger_written"):
            message["ledger_written"] = True
            rows.append(
                {
                    "reseller_id": ledger["reseller_id"],
                    "message_id": message["message_id"],
                    "thread": ledger["thread"],
                    "inbound": False,
                    "recipient_keys": [recipient_key(address) for address in message["to"]],
                    "created_at": utcnow(),
                }
            )
    if rows:
        # The table, not the entity: a plain INSERT, without the ORM's bulk machinery.
        session.execute(insert(ThreadMessage.__table__), rows)


def recipient_key(address: str) -> str:
    """A keyed fingerprint of an address (HMAC with the app's secret): what the ledger
    keeps of a mail's recipients, so a bounce can be checked without storing addresses."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, b"mail-recipient:" + address.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def mail_domain() -> str:
    """The domain our Message-IDs are minted on: the one of ``MAIL_FROM``."""
    return current_app.config["MAIL_FROM"].rsplit("@", 1)[-1].lower()


DEAD_ADDRESSES = "dead_addresses"


def deliverable(reseller_id: int, recipients: list[str]) -> list[str]:
    """The recipients no permanent bounce declared dead for this reseller."""
    dead = _dead_addresses(reseller_id)
    return [r for r in recipients if r.strip().lower() not in dead]


def _dead_addresses(reseller_id: int) -> frozenset[str]:
    """The reseller's dead addresses, read once per transaction or savepoint (a sweep
    mails many people)."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached_for, cache = db.session.info.get(DEAD_ADDRESSES, (None, {}))
    if cached_for is not transaction:
        cache = {}
        db.session.info[DEAD_ADDRESSES] = (transaction, cache)
    if reseller_id not in cache:
        cache[reseller_id] = frozenset(
            db.session.scalars(
                select(UndeliverableAddress.address).where(UndeliverableAddress.reseller_id == reseller_id)
            )
        )
    return cache[reseller_id]


MAX_REFERENCES = 10


def thread_references(reseller_id: int, thread: str) -> list[str]:
    """The Message-IDs a new mail of ``thread`` refers to, oldest first: the thread's
    first message and its latest ones (at most ``MAX_REFERENCES``), so the reader's
    client files it under the same conversation."""
    with scoped(reseller_id):
        rows = db.session.execute(
            select(ThreadMessage.id, ThreadMessage.message_id)
            .where(ThreadMessage.reseller_id == reseller_id, ThreadMessage.thread == thread)
            .order_by(ThreadMessage.id.desc())
            .limit(MAX_REFERENCES - 1)
        ).all()
        if not rows:
            return []
        first = db.session.scalar(
            select(ThreadMessage.message_id)
            .where(ThreadMessage.reseller_id == reseller_id, ThreadMessage.thread == thread)
            .order_by(ThreadMessage.id)
            .limit(1)
        )
    latest = [message_id for _id, message_id in reversed(rows)]
    return list(dict.fromkeys([first, *latest]))


def record_received(reseller_id: int, message_id: str, thread: str) -> None:
    """A received message joined ``thread``: the next mail of the thread refers to it."""
    with scoped(reseller_id):
        db.session.add(
            ThreadMessage(reseller_id=reseller_id, message_id=message_id[:255], thread=thread, inbound=True)
        )
        db.session.flush()


def threads_of(message_ids: list[str], *, sent_only: bool = False) -> list[ThreadMessage]:
    """The ledger rows of these Message-IDs, whatever the reseller (the caller decides
    whose they may be: it runs under the intake's bypass)."""
    wanted = [m for m in dict.fromkeys(message_ids) if m][: 2 * MAX_REFERENCES]
    if not wanted:
        return []
    query = select(ThreadMessage).where(ThreadMessage.message_id.in_(wanted))
    if sent_only:
        query = query.where(ThreadMessage.inbound.is_(False))
    return list(db.session.scalars(query.order_by(ThreadMessage.id)))


def mark_undeliverable(reseller_id: int, address: str, status: str, diagnostic: str) -> None:
    """A permanent bounce: no more mail of this reseller to ``address`` (the latest
    bounce's status and words kept for the staff)."""
    address = address.strip().lower()[:320]
    with scoped(reseller_id):
        row = db.session.scalar(
            select(UndeliverableAddress).where(
                UndeliverableAddress.reseller_id == reseller_id, UndeliverableAddress.address == address
            )
        )
        if row is None:
            row = UndeliverableAddress(reseller_id=reseller_id, address=address)
            db.session.add(row)
        row.status, row.diagnostic, row.bounced_at = status[:12], (diagnostic or "")[:500] or None, utcnow()
        db.session.flush()
    db.session.info.pop(DEAD_ADDRESSES, None)


def undeliverable(reseller_id: int, addresses: list[str]) -> dict[str, UndeliverableAddress]:
    """The dead ones among ``addresses``, by address (the staff pages show why)."""
    wanted = list({a.strip().lower() for a in addresses if a})
    if not wanted:
        return {}
    rows = db.session.scalars(
        select(UndeliverableAddress).where(
            UndeliverableAddress.reseller_id == reseller_id, UndeliverableAddress.address.in_(wanted)
        )
    )
    return {row.address: row for row in rows}


def clear_undeliverable(reseller_id: int, address: str) -> bool:
    """Staff try an address again (the mailbox was fixed); whether it was marked."""
    row = undeliverable(reseller_id, [address]).get(address.strip().lower())
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    db.session.info.pop(DEAD_ADDRESSES, None)
    return True


def _one_line(value: str) -> str:
    """A header value without control characters (a line break would end the header)."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())


def build_message(message: dict) -> EmailMessage:
    email = EmailMessage()
    sender = current_app.config["MAIL_FROM"]
    if message.get("sender_name"):
        # A structured address: the display name is quoted and escaped by the library, so
        # a reseller's name can never add an address of its own to the header.
        display = Address(display_name=_one_line(message["sender_name"]), addr_spec=sender)
        email["From"] = display
    else:
        email["From"] = sender
    email["To"] = ", ".join(message["to"])
    email["Subject"] = _one_line(message["subject"])
    email["Date"] = formatdate(localtime=False)
    # Minted by send_mail since this release; a job queued by the previous one has none.
    email["Message-ID"] = message.get("message_id") or make_msgid(domain=sender.split("@")[-1])
    if message.get("reply_to"):
        email["Reply-To"] = message["reply_to"]
    if message.get("in_reply_to"):
        email["In-Reply-To"] = _one_line(message["in_reply_to"])
    if message.get("references"):
        email["References"] = " ".join(_one_line(ref) for ref in message["references"])
    if message.get("automatic"):
        email["Auto-Submitted"] = "auto-generated"
        email["X-Auto-Response-Suppress"] = "All"
    marker_text, marker_html = message.get("marker") or ("", "")
    text = f"{message['text']}\n\n{marker_text}" if marker_text else message["text"]
    email.set_content(text)
    if message.get("brand"):
        html = render_template(
            "core/mail/branded.html",
            brand=message["brand"],
            body=_linked(message["text"]),
            # Built by the caller from a signed token (desk.mail_markers): no input in it.
            marker=Markup(marker_html),  # noqa: S704
        )
        email.add_alternative(html, subtype="html")
    return email


URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")


def _linked(text: str) -> Markup:
    """The plain text as HTML: escaped, its URLs made links, its line breaks kept."""
    out, last = [], 0
    for match in URL_IN_TEXT.finditer(text):
        url = match.group(0)
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def deliver(message: dict) -> None:
    """Job: send one message through SMTP or write it to the outbox."""
    email = build_message(message)
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        _send_smtp(smtp_url, email)
        return
    outbox = Path(current_app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    (outbox / f"{name}.eml").write_bytes(bytes(email))
    (outbox / f"{name}.json").write_text(
        json.dumps(
            {"to": message["to"], "subject": message["subject"], "text": message["text"], "sent_at": stamp}
        ),
        encoding="utf-8",
    )
    log.info("mail to %s: %s\n%s", ", ".join(message["to"]), message["subject"], message["text"])


def _send_smtp(smtp_url: str, email: EmailMessage) -> None:
    parts = urlsplit(smtp_url)
    query = parse_qs(parts.query)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    smtp_cls = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_cls(parts.hostname, port, timeout=20) as smtp:
        if query.get("starttls", ["0"])[0] in {"1", "true"}:
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)


def read_outbox(limit: int = 50) -> list[dict]:
    """The newest messages written to the outbox folder (demo mode)."""
    outbox = Path(current_app.config["OUTBOX_DIR"])
    if not outbox.exists():
        return []
    files = sorted(outbox.glob("*.json"), reverse=True)[:limit]
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]

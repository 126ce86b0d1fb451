"""Outgoing mail: SMTP when ``SMTP_URL`` is set, else an outbox folder and the log.

:func:`send_mail` only queues; delivery happens in the ``mail`` job after commit.
``SMTP_URL`` looks like ``smtp://user:pass@host:587?starttls=1`` or ``smtps://...``.
"""

from __future__ import annotations

import json
import logging
import re
import smtplib
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from markupsafe import Markup, escape

from core import jobs
from core.timeutil import utcnow

log = logging.getLogger(__name__)


def send_mail(
    to: str | list[str],
    subject: str,
    text: str,
    *,
    sender_name: str | None = None,
    reply_to: str | None = None,
    brand: dict | None = None,
) -> None:
    """Queue an e-mail, delivered once the current transaction commits.

    ``brand`` (``core.branding.brand_of``: name, colours, absolute logo URL) adds an
    HTML part drawn in the reseller's brand around the same text; pass
    ``**core.branding.mail_identity(reseller)`` to set it with the sender and reply-to.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    message = {
        "to": recipients,
        "subject": subject,
        "text": text,
        "sender_name": sender_name,
        "reply_to": reply_to,
        "brand": brand,
    }
    jobs.enqueue("core.mail.deliver", message, queue="mail", retries=5)


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
    email["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    if message.get("reply_to"):
        email["Reply-To"] = message["reply_to"]
    email.set_content(message["text"])
    if message.get("brand"):
        html = render_template(
            "core/mail/branded.html", brand=message["brand"], body=_linked(message["text"])
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

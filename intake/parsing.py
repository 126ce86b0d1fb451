"""Reading a stored message with the standard library's ``email`` (``policy.default``):
its sender, recipients, Message-ID, subject, text body and attachments.

The text body is the ``text/plain`` part; an HTML-only message is read as plain text
by :func:`intake.html.html_to_text` (the sanitised HTML body comes with a later
increment). Headers that cannot be read (broken encodings) give
empty values instead of failing the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from intake.html import html_to_text

MAX_MESSAGE_ID = 998


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


@dataclass(frozen=True)
class ParsedMessage:
    sender: str | None
    recipients: list[str]
    message_id: str | None
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name) or "")
    except (ValueError, TypeError, LookupError):
        return ""


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    values = [_header(message, name) for name in names]
    return [addr.strip().lower() for _name, addr in getaddresses(values) if "@" in addr]


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_subtype() == "html" else content.strip()


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True)
        if content is None:
            continue
        found.append(Attachment(filename=part.get_filename() or "anexo", content=content))
    return found


def parse(raw: bytes) -> ParsedMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    senders = _addresses(message, "From")
    message_id = " ".join(_header(message, "Message-ID").split())[:MAX_MESSAGE_ID] or None
    return ParsedMessage(
        sender=senders[0] if senders else None,
        recipients=_addresses(message, "To", "Cc"),
        message_id=message_id,
        subject=" ".join(_header(message, "Subject").split()),
        text=_body_text(message),
        attachments=_attachments(message),
    )

"""Reading a stored message with the standard library's ``email`` (``policy.default``, its
parsed headers memoised: ``POLICY``):
its sender, recipients, Message-ID, the Message-IDs it answers, subject, bodies and
attachments.

The text body is the ``text/plain`` part; an HTML-only message is read as plain text
by :func:`intake.html.html_to_text`. The raw HTML part is kept for the body marker (a
client that drops the text part keeps the hidden span). Headers that cannot be read
(broken encodings) give empty values instead of failing the whole message, and a part
in a charset Python does not know is read as Latin-1 (every byte is a character there),
so nothing is lost and nothing fails.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import InvalidHeaderDefect
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser

from intake.html import html_to_text

MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# The recipients read from one header (a message copying a thousand people is read for
# the first hundred: routing and the Cc's people never need more).
MAX_ADDRESSES = 100
# Parts nested deeper than this (real mail nests four or five): the message is refused.
MAX_DEPTH = 30
# Header objects parsed once per (name, value): ``policy.default`` parses a header again
# at every read (a part's Content-Type is read a dozen times while its body is found), and
# the same values come back in every message. A header object is read-only, so sharing it
# changes nothing but the time (three times faster on an 80 KB message).
HEADER_CACHE_SIZE = 4096
_registry = HeaderRegistry()
_parsed_header = functools.lru_cache(maxsize=HEADER_CACHE_SIZE)(_registry.__call__)


HEADER_CACHE_MAX_VALUE = 1000


def _header_factory(name: str, value: str):
    if len(value) > HEADER_CACHE_MAX_VALUE:  # rare and big: not worth the memory
        return _registry(name, value)
    return _parsed_header(name, value)


POLICY = policy.default.clone(header_factory=_header_factory)

MAX_MESSAGE_ID = 998


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    # An inline image's Content-ID (``<logo@x>``), as its HTML names it (``cid:logo@x``).
    content_id: str | None = None


@dataclass(frozen=True)
class ParsedMessage:
    sender: str | None
    recipients: list[str]
    message_id: str | None
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    # The Message-IDs it answers (In-Reply-To first, then References, newest first).
    answers: list[str] = field(default_factory=list)
    html: str = ""
    email: EmailMessage | None = None
    # The sender's display name ("Ana Souza"), and the Cc addresses alone.
    sender_name: str = ""
    cc: list[str] = field(default_factory=list)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name) or "")
    except (ValueError, TypeError, LookupError):
        return ""


def _header_addresses(message: EmailMessage, name: str) -> tuple:
    """The parsed addresses of an address header (none when unreadable)."""
    try:
        header = message.get(name)
        return tuple(header.addresses) if header is not None else ()
    except (ValueError, TypeError, LookupError, AttributeError):
        return ()


def _sender(message: EmailMessage) -> tuple[str | None, str]:
    """The From address and display name; none when From is not exactly one well-formed
    address (``alice@victim.org <attacker@evil.com>`` reads as alice's, with a defect:
    such a message is nobody's rather than the address it pretends)."""
    try:
        header = message.get("From")
        defects = header.defects if header is not None else ()
    except (ValueError, TypeError, LookupError):
        return None, ""
    addresses = _header_addresses(message, "From")
    if len(addresses) != 1 or any(isinstance(d, InvalidHeaderDefect) for d in defects):
        return None, ""
    address = addresses[0]
    if "@" not in address.addr_spec:
        return None, ""
    return address.addr_spec.strip().lower(), " ".join(address.display_name.split())[:120]


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    """The addresses of these headers, lower-cased, at most ``MAX_ADDRESSES`` each."""
    found = []
    for name in names:
        parsed = _header_addresses(message, name)[:MAX_ADDRESSES]
        found.extend(a.addr_spec.strip().lower() for a in parsed if "@" in a.addr_spec)
    return found


def _content(part: EmailMessage | None) -> str:
    """A text part's content; an unknown or lying charset is read as Latin-1."""
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, UnicodeError):
        content = (part.get_payload(decode=True) or b"").decode("latin-1")
    return content if isinstance(content, str) else ""


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    content = _content(part)
    if part is not None and part.get_content_subtype() == "html":
        return html_to_text(content)
    return content.strip()


def _answers(message: EmailMessage) -> list[str]:
    """In-Reply-To, then References from the newest: every Message-ID it answers."""
    in_reply_to = MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    references = MESSAGE_ID.findall(_header(message, "References"))
    return list(dict.fromkeys([*in_reply_to, *reversed(references)]))


def _attachments(message: EmailMessage) -> list[Attachment]:
    """Every file of the message, however deep (an HTML body's inline images sit in a
    multipart/related inside the multipart/alternative): the chosen text and HTML bodies
    and other unnamed text parts left out; an attached e-mail kept whole as ``.eml``."""
    bodies = {id(part) for part in (message.get_body(("plain",)), message.get_body(("html",))) if part}
    found = []
    for part in _file_parts(message, bodies):
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            content = inner[0].as_bytes() if isinstance(inner, list) and inner else None
        else:
            content = part.get_payload(decode=True)
        if content is None:
            continue
        content_id = _header(part, "Content-ID") or None
        found.append(Attachment(filename=_filename(part), content=content, content_id=content_id))
    return found


def _file_parts(part: EmailMessage, bodies: set[int]):
    if id(part) in bodies:
        return
    if part.get_content_type() == "message/rfc822":
        yield part
        return
    if part.is_multipart():
        for sub in part.iter_parts():
            yield from _file_parts(sub, bodies)
        return
    named = part.get_filename() is not None or part.get_content_disposition() == "attachment"
    if part.get_content_maintype() == "text" and not named:
        return  # another rendering of the body (a nested alternative), not a file
    yield part


def _filename(part: EmailMessage) -> str:
    """The part's file name; an unnamed inline image gets one from its type."""
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError):
        name = None
    if name:
        return name
    if part.get_content_type() == "message/rfc822":
        return "mensagem.eml"
    subtype = part.get_content_subtype() if part.get_content_maintype() == "image" else ""
    return f"imagem.{subtype}" if subtype else "anexo"


class Unparseable(ValueError):
    """A message nested deeper than any mail program writes (``MAX_DEPTH``): refused
    whole, without a retry (it would fail the same way)."""


def _depth(message: EmailMessage) -> int:
    """How deep its parts nest, counted without recursion."""
    deepest, stack = 0, [(message, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH and part.is_multipart():
            stack.extend((sub, depth + 1) for sub in part.get_payload() if isinstance(sub, EmailMessage))
    return deepest


def parse(raw: bytes) -> ParsedMessage:
    try:
        message = BytesParser(policy=POLICY).parsebytes(raw)
    except RecursionError:
        raise Unparseable("the message nests its parts too deeply") from None
    if _depth(message) > MAX_DEPTH:
        raise Unparseable("the message nests its parts too deeply")
    sender, sender_name = _sender(message)
    message_id = " ".join(_header(message, "Message-ID").split())[:MAX_MESSAGE_ID] or None
    return ParsedMessage(
        sender=sender,
        recipients=_addresses(message, "To", "Cc"),
        message_id=message_id,
        subject=" ".join(_header(message, "Subject").split()),
        text=_body_text(message),
        attachments=_attachments(message),
        answers=_answers(message),
        sender_name=sender_name,
        cc=_addresses(message, "Cc"),
        html=_content(message.get_body(preferencelist=("html",))),
        email=message,
    )

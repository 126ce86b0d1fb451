"""Where a reply belongs (issue 14): the per-ticket reply address, the ``[#1234]`` subject
marker and a hidden body marker. The address and the body marker carry a token signed
under a secret passed in (HMAC-SHA256), tied to the ticket id: it cannot be guessed nor
moved to another ticket, and a tampered one reads as None. The subject marker is only a
hint (anyone can type ``[#1234]``); the caller checks the sender before trusting it.

Tokens are lower-case base32 (``1234-k3j5...``): some servers lower-case the local part
of an address, so a case-sensitive encoding (itsdangerous' base64) would not survive."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SIGNATURE_CHARS = 16  # 80 bits of base32
TOKEN = re.compile(rf"(\d{{1,18}})-([a-z2-7]{{{SIGNATURE_CHARS}}})", re.IGNORECASE)
REPLY_ADDRESS = re.compile(rf"^reply\+{TOKEN.pattern}@([a-z0-9.\-]+)$", re.IGNORECASE)
BODY_MARKER = re.compile(rf"\bref:{TOKEN.pattern}\b", re.IGNORECASE)
SUBJECT_MARKER = re.compile(r"\[\s*#\s*(\d{1,18})\s*\]")
# "Re:", "RES:", "Fwd:", "ENC:", "TR:", "AW:", "RE[2]:"... repeated: what mail clients put
# before a subject they answer or forward, in Portuguese, English and a few neighbours.
REPLY_PREFIX = re.compile(r"^\s*((re|res|fw|fwd|enc|tr|aw|wg|sv|rv)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def signature(ticket_id: int, secret: str | bytes) -> str:
    """The lower-case base32 HMAC of the ticket id (its first 80 bits)."""
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("the reply token needs a secret")
    digest = hmac.new(key, f"intake-reply:{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]


def ticket_token(ticket_id: int, secret: str | bytes) -> str:
    """``<ticket id>-<signature>``."""
    if ticket_id < 0:
        raise ValueError("a ticket id is not negative")
    return f"{ticket_id}-{signature(ticket_id, secret)}"


def read_token(token: str, secret: str | bytes) -> int | None:
    """The ticket id a token names, or None when it is malformed or its signature is wrong."""
    match = TOKEN.fullmatch(token.strip())
    if match is None:
        return None
    ticket_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), signature(ticket_id, secret)):
        return None
    return ticket_id


def reply_address(ticket_id: int, secret: str | bytes, domain: str) -> str:
    """``reply+<token>@<domain>``: the Reply-To of the ticket's outgoing mail."""
    return f"reply+{ticket_token(ticket_id, secret)}@{domain.lower()}"


def ticket_from_address(address: str, secret: str | bytes, domains: tuple[str, ...] = ()) -> int | None:
    """The ticket a reply address names (tampered, or not one of ``domains`` if given -> None)."""
    match = REPLY_ADDRESS.match(address.strip().strip("<>"))
    if match is None:
        return None
    if domains and match.group(3).lower() not in {d.lower() for d in domains}:
        return None
    return read_token(f"{match.group(1)}-{match.group(2)}", secret)


def strip_reply_prefixes(subject: str) -> str:
    """``RES: ENC: Re: Pedido`` -> ``Pedido``."""
    return REPLY_PREFIX.sub("", subject).strip()


def subject_with_marker(subject: str, ticket_id: int) -> str:
    """``[#1234] subject`` (a subject that already carries this marker is kept as it is)."""
    if ticket_from_subject(subject) == ticket_id:
        return subject
    return f"[#{ticket_id}] {subject.strip()}".strip()


def ticket_from_subject(subject: str) -> int | None:
    """The number of the first ``[#1234]`` marker anywhere in the subject, or None."""
    match = SUBJECT_MARKER.search(subject or "")
    return int(match.group(1)) if match else None


def body_marker_text(ticket_id: int, secret: str | bytes) -> str:
    """The last line of a ticket mail's text part: ``ref:<token>``. It survives clients
    that rewrite the headers and the subject, and is quoted back with the reply."""
    return f"ref:{ticket_token(ticket_id, secret)}"


def body_marker_html(ticket_id: int, secret: str | bytes) -> str:
    """The same marker for an HTML part: a comment and a hidden span (a client that drops
    comments keeps the span's text; one that drops hidden elements keeps the comment)."""
    marker = body_marker_text(ticket_id, secret)
    hidden = "display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;opacity:0;color:transparent"
    return f'<!-- {marker} --><span style="{hidden}">{marker}</span>'


def ticket_from_body(body: str, secret: str | bytes) -> int | None:
    """The ticket of the first valid ``ref:`` marker in a text or HTML body (quoted or not:
    read it before the quoted history is trimmed), or None."""
    for match in BODY_MARKER.finditer(body or ""):
        ticket_id = read_token(f"{match.group(1)}-{match.group(2)}", secret)
        if ticket_id is not None:
            return ticket_id
    return None


def strip_body_markers(body: str) -> str:
    """The body without its ``ref:`` markers (they are for the intake, not for people: a
    sanitised HTML body loses the style that hid them)."""
    return BODY_MARKER.sub("", body or "")

"""Which inbound messages a machine wrote (issue 14): auto-replies, out-of-office notes,
bounces, list mail and our own mail coming back. Pure functions over a parsed message
(``email.message_from_bytes(raw, policy=email.policy.default)``); the intake job decides
what to do with the reason (a machine's mail never opens a ticket nor answers one)."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from email.message import Message
from email.utils import getaddresses

from desk.mail_markers import strip_reply_prefixes


class AutomaticReason(enum.StrEnum):
    """Why a message counts as written by a machine."""

    REPORT = "report"
    AUTO_SUBMITTED = "auto-submitted"
    AUTOREPLY_HEADER = "x-autoreply"
    PRECEDENCE = "precedence"
    LIST = "list-unsubscribe"
    SUPPRESS_ALL = "x-auto-response-suppress"
    NULL_SENDER = "null-sender"
    ROBOT_SENDER = "robot-sender"
    OWN_MESSAGE = "own-message-id"


AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond")
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# mailer-daemon@, postmaster@, no-reply@, noreply@, do-not-reply@, naoresponda@ (with a
# "+tag" or ".suffix" tolerated before the @).
ROBOT_LOCAL_PART = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|n[aã]o-?responda)([+.\-_].*)?$", re.IGNORECASE
)
# Subjects that out-of-office notes start with (accents folded, "Re:" and the like removed).
OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^(resposta automatica|automatic reply|auto[- ]?reply|out of office|fora do escritorio|ausente)\b",
    re.IGNORECASE,
)


def header_values(msg: Message, name: str) -> list[str]:
    """Every value of a header as text; a header the parser cannot read counts as absent."""
    try:
        values = msg.get_all(name) or []
        return [str(value).strip() for value in values]
    except (ValueError, TypeError, IndexError, LookupError):
        return []


def first_token(value: str) -> str:
    """``auto-replied; owner-email=...`` -> ``auto-replied``."""
    return value.split(";", 1)[0].strip().lower()


def value_list(value: str) -> set[str]:
    """``OOF, AutoReply`` -> {"oof", "autoreply"}."""
    return {item.strip().lower() for item in re.split(r"[,;\s]+", value) if item.strip()}


def sender_addresses(msg: Message) -> list[str]:
    """The addresses of From, Sender and Return-Path, lower-cased (empty ones kept out)."""
    pairs = getaddresses([v for name in ("From", "Sender", "Return-Path") for v in header_values(msg, name)])
    return [address.lower() for _name, address in pairs if "@" in address]


def has_null_return_path(msg: Message) -> bool:
    """``Return-Path: <>``: the null sender of bounces and other notifications (RFC 5321)."""
    return any(value.replace(" ", "") == "<>" for value in header_values(msg, "Return-Path"))


def message_id_domain(msg: Message) -> str | None:
    """The part after the @ of the Message-ID, lower-cased, or None."""
    for value in header_values(msg, "Message-ID"):
        match = re.search(r"@([^>\s]+)>?\s*$", value)
        if match:
            return match.group(1).lower().rstrip(".")
    return None


def is_own_message(msg: Message, own_domains: Iterable[str]) -> bool:
    """Whether the Message-ID was minted by us (one of our domains or a subdomain of one):
    our own notification coming back, which must never be taken in as a reply."""
    domain = message_id_domain(msg)
    if domain is None:
        return False
    for own in own_domains:
        own = own.lower().strip().rstrip(".")
        if own and (domain == own or domain.endswith("." + own)):
            return True
    return False


def is_automatic(msg: Message, own_domains: Iterable[str] = ()) -> AutomaticReason | None:
    """The reason a machine wrote this message, or None when a person (probably) did."""
    if msg.get_content_type() == "multipart/report":  # a bounce or a read receipt (RFC 6522)
        return AutomaticReason.REPORT
    if any(first_token(v) not in ("", "no") for v in header_values(msg, "Auto-Submitted")):
        return AutomaticReason.AUTO_SUBMITTED
    if any(header_values(msg, name) for name in AUTOREPLY_HEADERS):
        return AutomaticReason.AUTOREPLY_HEADER
    if any(first_token(v) in BULK_PRECEDENCE for v in header_values(msg, "Precedence")):
        return AutomaticReason.PRECEDENCE
    if header_values(msg, "List-Unsubscribe"):
        return AutomaticReason.LIST
    if any("all" in value_list(v) for v in header_values(msg, "X-Auto-Response-Suppress")):
        return AutomaticReason.SUPPRESS_ALL
    if has_null_return_path(msg):
        return AutomaticReason.NULL_SENDER
    if any(ROBOT_LOCAL_PART.match(address.rsplit("@", 1)[0]) for address in sender_addresses(msg)):
        return AutomaticReason.ROBOT_SENDER
    if is_own_message(msg, own_domains):
        return AutomaticReason.OWN_MESSAGE
    return None


def fold_accents(text: str) -> str:
    """``Resposta automática`` -> ``Resposta automatica``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_out_of_office(msg: Message) -> bool:
    """An out-of-office (vacation) note: by its headers or by its subject's first words.
    A report (a bounce, a read receipt) is not one, though it says ``auto-replied`` too."""
    if msg.get_content_type() == "multipart/report":
        return False
    if any(first_token(v) == "auto-replied" for v in header_values(msg, "Auto-Submitted")):
        return True
    if any(header_values(msg, name) for name in AUTOREPLY_HEADERS):
        return True
    subject = " ".join(header_values(msg, "Subject"))
    subject = strip_reply_prefixes(fold_accents(subject))
    return bool(OUT_OF_OFFICE_SUBJECT.match(subject))


def dmarc_failed(msg: Message, authserv_id: str | None) -> bool:
    """Whether the receiving server we trust (its ``authserv-id``, RFC 8601) says the
    From's domain failed DMARC: the sender is then nobody's, whatever From claims. Only
    that server's Authentication-Results header is read (anybody can write one); without
    a configured id, nothing is read."""
    if not authserv_id:
        return False
    for value in header_values(msg, "Authentication-Results"):
        server, _sep, results = value.partition(";")
        if server.strip().split()[:1] != [authserv_id.strip()]:
            continue
        return any(item.strip().lower().startswith("dmarc=fail") for item in results.split(";"))
    return False

"""Delivery-status reports (RFC 3464 bounces, issue 14): which recipients our mail did not
reach, with the status code and the remote server's diagnostic. A permanent failure
(5.x.x) means the address is dead; a transient one (4.x.x) that the remote server is
still trying. Pure functions over a parsed message."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

STATUS_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# A recipient was not reached when its status (required by RFC 3464 2.3.4) is of class 4
# (transient: "delayed") or 5 (permanent: "failed"); class 2 is a success whatever the
# Action field says ("delivered", "relayed", "expanded").
FAILURE_CLASSES = ("4", "5")


@dataclass(frozen=True)
class FailedRecipient:
    """One recipient a report says was not reached."""

    address: str
    action: str
    status: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")

    @property
    def transient(self) -> bool:
        return self.status.startswith("4")


@dataclass(frozen=True)
class Bounce:
    """A delivery-status report: the failed recipients and the Message-ID it is about."""

    recipients: tuple[FailedRecipient, ...]
    original_message_id: str | None

    @property
    def permanent(self) -> tuple[FailedRecipient, ...]:
        return tuple(r for r in self.recipients if r.permanent)

    @property
    def transient(self) -> tuple[FailedRecipient, ...]:
        return tuple(r for r in self.recipients if r.transient)


def is_delivery_report(msg: Message) -> bool:
    """``multipart/report; report-type=delivery-status``."""
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


def typed_value(value: str | None) -> str:
    """``rfc822; ana@example.com`` -> ``ana@example.com``; ``smtp; 550 ...`` -> ``550 ...``."""
    if not value:
        return ""
    text = " ".join(str(value).split())
    return text.split(";", 1)[1].strip() if ";" in text else text


def status_code(status: str | None, diagnostic: str) -> str:
    """The ``X.Y.Z`` status, from the Status field or else from the diagnostic text."""
    for source in (status or "", diagnostic):
        match = STATUS_CODE.search(source)
        if match:
            return ".".join(match.groups())
    return ""


def recipient_from_fields(fields: Message) -> FailedRecipient | None:
    """One per-recipient block of a delivery-status part, if it reports a failure."""
    address = typed_value(fields.get("Final-Recipient") or fields.get("Original-Recipient"))
    diagnostic = typed_value(fields.get("Diagnostic-Code"))
    status = status_code(fields.get("Status"), diagnostic)
    if not address or not status.startswith(FAILURE_CLASSES):
        return None
    return FailedRecipient(
        address=address.lower(),
        action=str(fields.get("Action", "")).strip().lower(),
        status=status,
        diagnostic=diagnostic,
    )


def status_blocks(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status part (per-message block first)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # A part the parser left as text: its blocks are separated by blank lines.
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block + "\n") for block in re.split(r"\r?\n\s*\r?\n", text.strip())]


def msg_policy(part: Message):
    """The policy the report was parsed with (the intake's memoised one), else the default."""
    found = getattr(part, "policy", None)
    return found if isinstance(found, email.policy.EmailPolicy) else email.policy.default


def original_headers(part: Message) -> Message | None:
    """The returned message (message/rfc822) or its headers (text/rfc822-headers)."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        return payload[0] if isinstance(payload, list) and payload else None
    if part.get_content_type() == "text/rfc822-headers":
        text = part.get_payload(decode=True) or b""
        return email.message_from_bytes(bytes(text), policy=msg_policy(part))
    return None


def parse_report(msg: Message) -> Bounce | None:
    """The bounce a delivery-status report describes, or None when ``msg`` is not one."""
    if not is_delivery_report(msg):
        return None
    recipients: list[FailedRecipient] = []
    original_id = None
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            for block in status_blocks(part):
                recipient = recipient_from_fields(block)
                if recipient is not None:
                    recipients.append(recipient)
        elif original_id is None and (headers := original_headers(part)) is not None:
            found = headers.get("Message-ID")
            original_id = str(found).strip() if found else None
    return Bounce(recipients=tuple(recipients), original_message_id=original_id)

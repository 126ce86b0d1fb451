"""The values the intake package stores.

Every value is a ``StrEnum``: members compare equal to the strings stored in the
database. Bare outcome strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class ReceivedVia(StrEnum):
    """``inbound_messages.received_via``: which door the message came in by."""

    WEBHOOK = "webhook"
    SMTP = "smtp"


class IntakeOutcome(StrEnum):
    """``inbound_messages.outcome``: what processing a stored message did with it."""

    TICKET_OPENED = "ticket_opened"
    REPLY_ADDED = "reply_added"
    # Its Message-ID (or the digest of its bytes) was processed before.
    DUPLICATE = "duplicate"
    # No desk's intake address among its recipients (or one of several resellers').
    UNROUTABLE = "unroutable"
    # A sender who is no active user of a client the desk serves (a later increment
    # creates the client or the user).
    UNKNOWN_SENDER = "unknown_sender"
    # Routed and known, but the ticket rules refused it (the reason is in last_error).
    REFUSED = "refused"
    # The stored bytes are gone or are no message at all.
    UNREADABLE = "unreadable"
    # An out-of-office note on a ticket: recorded on its timeline, the ticket unchanged.
    AUTO_REPLY = "auto_reply"
    # A delivery-status report about a mail we sent (permanent: the address is dead).
    BOUNCE = "bounce"
    # Written by a machine and belonging to no ticket (a bounce we did not send, a
    # mailer-daemon, a no-reply sender, our own mail coming back): kept, never answered.
    IGNORED_AUTOMATIC = "ignored_automatic"
    # More than the limit of messages a minute from one sender: kept, not processed.
    RATE_LIMITED = "rate_limited"
    # A waiting message (unknown sender) staff chose not to take in.
    DISCARDED = "discarded"

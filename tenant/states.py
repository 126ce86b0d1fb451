"""The statuses of what the tenant package stores (the client's billing summary, its inbox).

Every status is a ``StrEnum``: members compare equal to the strings stored in the
database, so ``client.status == ClientStatus.ACTIVE`` and queries on the column work
unchanged. Bare status strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class ClientStatus(StrEnum):
    """``clients.status``: whether the client has a plan in force (written by billing)."""

    ACTIVE = "active"
    WITHOUT_PLAN = "without_plan"


class PaymentStatus(StrEnum):
    """``payments.status`` and its mirror ``clients.payment_status`` (the latest payment's)."""

    PENDING = "pending"
    PAID = "paid"
    OVERDUE = "overdue"
    FAILED = "failed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


# What the client list filters the latest payment by (a cancelled payment is never the latest).
PAYMENT_STATUS_FILTERS = tuple(s.value for s in PaymentStatus if s is not PaymentStatus.CANCELLED)


class ConversationStatus(StrEnum):
    """``conversations.status``."""

    OPEN = "open"
    CLOSED = "closed"


class MessageDirection(StrEnum):
    """``messages.direction``: from the contact (in) or to the contact (out)."""

    INBOUND = "in"
    OUTBOUND = "out"


class WindowSource(StrEnum):
    """``session_windows.source``: what paid for a conversation window."""

    PLAN = "plan"
    EXTRA = "extra"


class WindowRefusal(StrEnum):
    """Why no conversation window could be opened (``WindowRefused.reason``)."""

    SUSPENDED = "suspended"
    NO_SESSIONS = "no_sessions"
    CLIENT_GONE = "client_gone"
    WINDOW_CLOSED = "window_closed"


class LiveKind(StrEnum):
    """What a live event is about (``tenant.live``, read by ``static/app/live.js``)."""

    MESSAGE = "message"
    CONVERSATION = "conversation"
    DELIVERY = "delivery"
    SESSIONS = "sessions"
    # Sent by the stream itself: the reader's notification choice (first), the reader
    # missed events and reloads, its session ended.
    HELLO = "hello"
    RESET = "reset"
    END = "end"


class LiveChange(StrEnum):
    """What happened to a conversation in a live event."""

    NEW = "new"
    TAKEN = "taken"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    REOPENED = "reopened"
    # A reader that saw the conversation may no longer (transferred away from it).
    HIDDEN = "hidden"


class MessageKind(StrEnum):
    """``messages.kind``: what a message carries (a channel's text, media, place...)."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    TEMPLATE = "template"


# The kinds whose file is downloaded and kept (core.storage) and served by the workspace.
MEDIA_KINDS = frozenset(
    {MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT, MessageKind.STICKER}
)


class DeliveryStatus(StrEnum):
    """``messages.delivery_status``: how far our outbound message got on its channel.
    The order is the order a message goes through (``rank``); failed ends it."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        return list(DeliveryStatus).index(self)

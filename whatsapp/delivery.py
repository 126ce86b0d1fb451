"""The delivery of our messages as the channel reports it: the only writer of
``messages.delivery_status``, ``delivery_status_at`` and ``delivery_error``.

Order-tolerant: Meta's statuses may arrive late or out of order, so a status older
than the one stored never overwrites it; at the same instant, the later stage wins
(queued, sent, delivered, read; failed ends it)."""

from __future__ import annotations

from datetime import datetime

from tenant.inbox import set_delivery_status
from tenant.inbox_models import Message
from tenant.states import DeliveryStatus


def mark(message: Message, status: DeliveryStatus, at: datetime | None, error: str | None = None) -> bool:
    """Record ``status`` (at ``at``, Meta's time; ``None`` for our own steps, which
    never override one Meta reported) unless what is stored is newer. Whether it
    changed anything."""
    current = DeliveryStatus(message.delivery_status) if message.delivery_status else None
    stored_at = message.delivery_status_at
    if current is not None:
        if at is None and stored_at is not None:
            return False
        if stored_at is not None and at < stored_at:
            return False
        if (at is None or at == stored_at) and status.rank <= current.rank:
            return False
    message.delivery_status = status
    if at is not None:
        message.delivery_status_at = at
    message.delivery_error = (error or "")[:300] or None if status == DeliveryStatus.FAILED else None
    set_delivery_status(message, status, error=message.delivery_error)  # the open pages are told
    return True

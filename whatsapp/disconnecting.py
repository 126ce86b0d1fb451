"""Disconnecting a client's WhatsApp channel (the settings page's "Disconnect"): its
sealed secrets and verify token are erased with its row, so the webhook can no longer
check a delivery's signature for that number and answers 404 (see
:func:`whatsapp.intake.verify`); the messages still waiting to be sent fail with a
reason saying why; the synced templates go (they are the account's, synced again after
reconnecting). Conversations and messages stay. Reconnecting is saving the settings
again (all the secrets typed anew)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from tenant.inbox_models import Message
from tenant.states import DeliveryStatus
from whatsapp import channels, delivery
from whatsapp.models import WhatsAppChannel, WhatsAppSend, WhatsAppTemplate


def cancel_pending(client_id: int, reason: str) -> int:
    """The client's messages waiting for a try fail with ``reason``; how many. A send job
    in the middle of its try holds its row (PostgreSQL): this waits for it, then finds it
    sent or still pending."""
    stmt = select(WhatsAppSend).where(
        WhatsAppSend.client_id == client_id, WhatsAppSend.next_attempt_at.is_not(None)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    rows = db.session.scalars(stmt).all()
    if not rows:
        return 0
    messages = {
        m.id: m
        for m in db.session.scalars(select(Message).where(Message.id.in_([r.message_id for r in rows])))
    }
    cancelled = 0
    now = utcnow()
    for row in rows:
        row.next_attempt_at = None
        message = messages.get(row.message_id)
        if message is not None and not message.external_id:
            delivery.mark(message, DeliveryStatus.FAILED, now, reason)
            cancelled += 1
    return cancelled


def disconnect(channel: WhatsAppChannel) -> int:
    """Disconnect the channel (in the caller's transaction); how many waiting messages
    were cancelled."""
    client_id = channel.client_id
    cancelled = cancel_pending(
        client_id, _("The WhatsApp channel was disconnected before this message was sent.")
    )
    db.session.execute(delete(WhatsAppTemplate).where(WhatsAppTemplate.client_id == client_id))
    audit.record(
        "whatsapp.channel_disconnected",
        channel,
        details={"before": channels.shown(channel), "sends_cancelled": cancelled},
    )
    db.session.delete(channel)
    db.session.flush()
    return cancelled

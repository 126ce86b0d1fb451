"""What a stored WhatsApp webhook event does, applied once by :mod:`whatsapp.inbox` in
its client's scope: each contact's message received (``tenant.inbox.receive``: its
window and session as for any channel), each reaction set on the message it names, each
status of our messages recorded (:mod:`whatsapp.delivery`), each template's new status
(``message_template_status_update``, for the channel's business account:
:mod:`whatsapp.template_status`).

Idempotent by WhatsApp message id (``messages.external_id``); order-tolerant by Meta's
timestamps (a message's ``created_at`` is its own; an older status never overwrites a
newer one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from core import jobs
from core.extensions import db
from tenant import inbox
from tenant.inbox_models import Message
from tenant.models import Client
from tenant.phones import normalise_phone
from tenant.states import MEDIA_KINDS, DeliveryStatus, MessageDirection, MessageKind
from whatsapp import channels, delivery, template_status
from whatsapp.models import WhatsAppEvent
from whatsapp.states import TEMPLATE_STATUS_FIELD, EventOutcome, MetaStatus, MetaType

MAX_TEXT = 4096
MEDIA_JOB = "whatsapp.tasks.download_media"
_STATUSES = {
    MetaStatus.SENT: DeliveryStatus.SENT,
    MetaStatus.DELIVERED: DeliveryStatus.DELIVERED,
    MetaStatus.READ: DeliveryStatus.READ,
    MetaStatus.FAILED: DeliveryStatus.FAILED,
}


class NotYetKnown(Exception):
    """A status or a reaction names a message whose WhatsApp id is not stored yet (our
    sending job has not committed, the contact's message is still on its way): the
    event is rolled back and tried again later (the sweep, a bounded number of times)."""


def apply_event(row: WhatsAppEvent) -> str:
    try:
        payload = json.loads(row.payload)
    except (ValueError, RecursionError):
        return EventOutcome.UNREADABLE
    client = db.session.get(Client, row.client_id)
    applied = 0
    for value in _values(payload, row.phone_number_id):
        names = _contact_names(value)
        for message in _dicts(value.get("messages")):
            applied += _receive(client, message, names)
        for status in _dicts(value.get("statuses")):
            applied += _status(client, status)
    changes = _template_changes(payload)
    channel = channels.channel_of_client(row.client_id) if changes else None
    for account_id, value, at in changes:
        if channel is not None and account_id == channel.business_account_id:
            applied += template_status.apply_status(row.client_id, value, at or row.received_at)
    return EventOutcome.APPLIED if applied else EventOutcome.NOTHING


def _dicts(items) -> list[dict]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _values(payload, phone_number_id: str) -> list[dict]:
    """The ``value`` of every change of the payload that is this channel's."""
    found = []
    for entry in _dicts(payload.get("entry") if isinstance(payload, dict) else None):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(metadata, dict) and metadata.get("phone_number_id") == phone_number_id:
                found.append(value)
    return found


def _template_changes(payload) -> list[tuple[object, dict, datetime | None]]:
    """Every template status change of the payload: its business account id (the
    entry's ``id``), its ``value`` and the entry's ``time``."""
    found = []
    for entry in _dicts(payload.get("entry") if isinstance(payload, dict) else None):
        for change in _dicts(entry.get("changes")):
            if change.get("field") == TEMPLATE_STATUS_FIELD and isinstance(change.get("value"), dict):
                found.append((entry.get("id"), change["value"], _timestamp(entry.get("time"))))
    return found


def _contact_names(value: dict) -> dict[str, str]:
    names = {}
    for contact in _dicts(value.get("contacts")):
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(contact.get("wa_id"), str) and _text(name):
            names[contact["wa_id"]] = _text(name)[:120]
    return names


def _timestamp(raw) -> datetime | None:
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        return None
    if not 0 < seconds < 32503680000:  # before the year 3000
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _text(value) -> str:
    # JSON may spell a NUL (\u0000), which no text column of PostgreSQL takes.
    return value.replace("\x00", "").strip()[:MAX_TEXT] if isinstance(value, str) else ""


def _receive(client: Client, message: dict, names: dict[str, str]) -> int:
    wamid, sender, kind = message.get("id"), message.get("from"), message.get("type")
    if not (isinstance(wamid, str) and 0 < len(wamid) <= 100 and isinstance(sender, str)):
        return 0
    if kind == MetaType.REACTION:
        return _react(client, message)
    phone = normalise_phone("+" + sender.lstrip("+"))
    if phone is None:
        return 0
    body, extras = _content(kind, message)
    context = message.get("context")
    reply_to = context.get("id") if isinstance(context, dict) else None
    if isinstance(reply_to, str) and 0 < len(reply_to) <= 100:
        extras["reply_to_external_id"] = reply_to
    result = inbox.receive(
        client,
        phone=phone,
        name=names.get(sender),
        text=body,
        external_id=wamid,
        sent_at=_timestamp(message.get("timestamp")),
        extras=inbox.Extras(**extras),
    )
    if result.duplicate:
        return 0
    if result.message.media_id:
        jobs.enqueue(MEDIA_JOB, result.message.id, queue="whatsapp")
    return 1


def _content(kind, message: dict) -> tuple[str, dict]:
    """The text a message shows and what it carries besides, by its Meta type."""
    part = message.get(kind) if isinstance(kind, str) else None
    part = part if isinstance(part, dict) else {}
    if kind == MetaType.TEXT:
        return _text(part.get("body")), {}
    if kind in MEDIA_KINDS:
        media_id = part.get("id")
        extras = {"kind": MessageKind(kind)}
        if isinstance(media_id, str) and 0 < len(media_id) <= 200:
            extras["media_id"] = media_id
            extras["media_type"] = _text(part.get("mime_type"))[:120] or None
            extras["media_name"] = _text(part.get("filename"))[:200] or None
        return _text(part.get("caption")), extras
    if kind == MetaType.LOCATION:
        lat, lon = part.get("latitude"), part.get("longitude")
        extras = {"kind": MessageKind.LOCATION}
        if (
            isinstance(lat, int | float)
            and isinstance(lon, int | float)
            and abs(lat) <= 90
            and abs(lon) <= 180
        ):
            extras.update(latitude=float(lat), longitude=float(lon))
        words = [_text(part.get("name")), _text(part.get("address"))]
        return " — ".join(w for w in words if w) or "📍", extras
    if kind == MetaType.CONTACTS:
        return _shared_contacts(message.get("contacts")), {"kind": MessageKind.CONTACTS}
    if kind == MetaType.BUTTON:
        return _text(part.get("text")), {}
    if kind == MetaType.INTERACTIVE:
        reply = part.get("button_reply") or part.get("list_reply")
        return _text(reply.get("title") if isinstance(reply, dict) else None), {}
    return f"[{str(kind)[:30]}]", {}


def _shared_contacts(cards) -> str:
    lines = []
    for card in _dicts(cards)[:20]:
        name = card.get("name")
        shown = _text(name.get("formatted_name") if isinstance(name, dict) else None)
        phones = [_text(p.get("phone")) for p in _dicts(card.get("phones"))]
        lines.append(": ".join(part for part in (shown, ", ".join(p for p in phones if p)) if part))
    return "\n".join(line for line in lines if line)[:MAX_TEXT] or "[contacts]"


def _react(client: Client, message: dict) -> int:
    part = message.get("reaction")
    part = part if isinstance(part, dict) else {}
    target_id, emoji = part.get("message_id"), part.get("emoji")
    if not isinstance(target_id, str):
        return 0
    target = db.session.scalar(
        select(Message).where(Message.client_id == client.id, Message.external_id == target_id)
    )
    if target is None:
        raise NotYetKnown(f"no message has the WhatsApp id {target_id[:100]}")
    # An empty emoji takes the reaction back.
    target.reaction = emoji[:32] if isinstance(emoji, str) and emoji else None
    return 1


def _status(client: Client, status: dict) -> int:
    wamid, raw = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or raw not in tuple(MetaStatus):
        return 0
    message = db.session.scalar(
        select(Message).where(
            Message.client_id == client.id,
            Message.external_id == wamid,
            Message.direction == MessageDirection.OUTBOUND,
        )
    )
    if message is None:
        raise NotYetKnown(f"no message of ours has the WhatsApp id {wamid[:100]}")
    error = None
    if raw == MetaStatus.FAILED:
        first = _dicts(status.get("errors"))[:1]
        if first:
            title = _text(first[0].get("title") or first[0].get("message")) or "error"
            code = first[0].get("code")
            error = f"{title} ({code})" if isinstance(code, int) else title
    at = _timestamp(status.get("timestamp"))
    return int(delivery.mark(message, _STATUSES[MetaStatus(raw)], at, error))

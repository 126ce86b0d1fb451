"""Our messages sent through the client's WhatsApp channel.

The conversation page stores our message (``tenant.inbox.send``: the 24-hour window
and the template rule are decided there); :func:`queue` (a ``tenant.hooks`` callback)
then gives it a ``whatsapp_sends`` row and queues the job that POSTs it to Graph
``/{phone-number-id}/messages``. The job (:func:`send`) sends it once: a message that
already has its WhatsApp id is never sent again. A rate limit (429), a server error
(5xx) or no answer is tried again later, with backoff (``BACKOFF``), at most
``MAX_TRIES`` times; any other refusal, or the last try, marks the message failed with
Meta's reason, shown next to it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import jobs
from core.extensions import db
from core.storage import get_storage
from core.timeutil import utcnow
from tenant.inbox_models import Contact, Conversation, Message
from tenant.states import DeliveryStatus, MessageKind
from whatsapp import channels, delivery, graph
from whatsapp.models import WhatsAppSend
from whatsapp.sealing import Unreadable
from whatsapp.states import SendOutcome

SEND_JOB = "whatsapp.tasks.send_message"
MAX_TRIES = 5
# The wait after try n (1-based) before the next one.
BACKOFF = (timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5))


def queue(message: Message) -> WhatsAppSend | None:
    """For a client with a WhatsApp channel: the message waits to be sent (job queued at
    the commit). Called in the transaction that stored the message."""
    channel = channels.channel_of_client(message.client_id)
    if channel is None:
        return None
    row = WhatsAppSend(
        reseller_id=message.reseller_id,
        client_id=message.client_id,
        message_id=message.id,
        params=[],
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    delivery.mark(message, DeliveryStatus.QUEUED, None)
    jobs.enqueue(SEND_JOB, message.id, queue="whatsapp", retries=0)
    return row


def use_template(
    row: WhatsAppSend,
    name: str,
    language: str,
    params: list[str],
    components: list[dict] | None = None,
    *,
    names: list[str] | None = None,
) -> None:
    """The queued message is this approved template with these body parameters (a named
    template's ``names`` with them, in their order) and header and button components
    (``message_templates.Filled``)."""
    row.template_name, row.template_language, row.params = name, language, list(params)
    row.param_names = list(names) if names is not None else None
    row.components = list(components or []) or None


def send_of(message_id: int) -> WhatsAppSend | None:
    return db.session.scalar(select(WhatsAppSend).where(WhatsAppSend.message_id == message_id))


def _payload(message: Message, row: WhatsAppSend, phone: str) -> dict:
    payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": phone.lstrip("+")}
    if row.template_name:
        template = {"name": row.template_name, "language": {"code": row.template_language}}
        extra = row.components or []
        parts = [part for part in extra if part["type"] == "header"]
        if row.params:
            names = row.param_names or [None] * len(row.params)
            parts.append(
                {"type": "body", "parameters": [_text(p, n) for p, n in zip(row.params, names, strict=True)]}
            )
        parts += [part for part in extra if part["type"] == "button"]
        if parts:
            template["components"] = parts
        payload.update(type="template", template=template)
    else:
        payload.update(type="text", text={"preview_url": False, "body": message.body})
    if message.reply_to_external_id:
        payload["context"] = {"message_id": message.reply_to_external_id}
    return payload


def _text(text: str, name: str | None) -> dict:
    """A body parameter as Meta takes it; a named template's carries its name."""
    return {"type": "text", "parameter_name": name, "text": text} if name else {"type": "text", "text": text}


def _upload(message: Message, phone_number_id: str, token: str) -> tuple[str, str]:
    """The message's file uploaded to Meta (again on each try: an upload is cheap and its
    id is Meta's): its media id and name."""
    with get_storage().open(message.media_key) as stream:
        content = stream.read()
    content_type = (message.media_type or "application/octet-stream").split(";")[0].strip()
    name = message.media_name or "file"
    return graph.upload_media(phone_number_id, token, content, content_type, name), name


def _with_header_file(payload: dict, message: Message, phone_number_id: str, token: str) -> dict:
    """A template whose header is the message's file: its header parameter names it."""
    media_id, name = _upload(message, phone_number_id, token)
    parts = []
    for part in payload["template"]["components"]:
        if part["type"] == "header":
            kind = part["parameters"][0]["type"]
            source = {"id": media_id, "filename": name} if kind == "document" else {"id": media_id}
            part = {"type": "header", "parameters": [{"type": kind, kind: source}]}
        parts.append(part)
    payload["template"]["components"] = parts
    return payload


def _with_media(payload: dict, message: Message, phone_number_id: str, token: str) -> dict:
    """The message as a file of ours, named with its caption."""
    media_id, name = _upload(message, phone_number_id, token)
    media = {"id": media_id}
    if message.body and message.kind != MessageKind.AUDIO:  # Meta takes no caption on audio
        media["caption"] = message.body
    if message.kind == MessageKind.DOCUMENT:
        media["filename"] = name
    payload.pop("text", None)
    payload.update(type=message.kind, **{message.kind: media})
    return payload


def send(message_id: int) -> str:
    """One try at sending the message (the job, and the sweep of due tries)."""
    stmt = select(WhatsAppSend).where(WhatsAppSend.message_id == message_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # two jobs for one message: the second waits, then sees it sent
    row = db.session.scalar(stmt)
    message = db.session.get(Message, message_id)
    if row is None or message is None:
        db.session.rollback()
        return SendOutcome.NOT_FOUND
    if message.external_id:
        db.session.rollback()
        return SendOutcome.ALREADY_SENT
    if message.delivery_status == DeliveryStatus.FAILED or row.next_attempt_at is None:
        db.session.rollback()
        return SendOutcome.FAILED
    channel = channels.channel_of_client(message.client_id)
    conversation = db.session.get(Conversation, message.conversation_id)
    contact = db.session.get(Contact, conversation.contact_id)
    row.attempts += 1
    refusal = None
    if channel is None:
        refusal = graph.GraphError(None, "the WhatsApp channel was removed")
    elif message.is_template and not row.template_name:
        # Free text marked "template" (the generic channel's way): outside the window
        # WhatsApp takes only an approved template, chosen in the template form.
        refusal = graph.GraphError(None, "choose an approved WhatsApp template to send outside the window")
    else:
        try:
            token = channels.access_token(channel)
        except Unreadable:
            refusal = graph.GraphError(None, "the channel's access token cannot be read: type it again")
    if refusal is not None:
        return _failed_try(message, row, refusal, permanent=True)
    try:
        payload = _payload(message, row, contact.phone)
        if message.media_key and row.template_name:
            payload = _with_header_file(payload, message, channel.phone_number_id, token)
        elif message.media_key:
            payload = _with_media(payload, message, channel.phone_number_id, token)
        wamid = graph.send_message(channel.phone_number_id, token, payload)
    except graph.GraphError as error:
        return _failed_try(message, row, error, permanent=False)
    message.external_id = wamid
    row.next_attempt_at = None
    delivery.mark(message, DeliveryStatus.SENT, None)
    db.session.commit()
    return SendOutcome.SENT


def _failed_try(message: Message, row: WhatsAppSend, error: graph.GraphError, *, permanent: bool) -> str:
    if error.retryable and not permanent and row.attempts < MAX_TRIES:
        wait = BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
        row.next_attempt_at = utcnow() + wait
        jobs.enqueue(SEND_JOB, message.id, queue="whatsapp", retries=0, delay=wait)
        db.session.commit()
        return SendOutcome.RETRY_LATER
    row.next_attempt_at = None
    delivery.mark(message, DeliveryStatus.FAILED, utcnow(), error.reason)
    db.session.commit()
    return SendOutcome.FAILED


def due(limit: int = 500) -> list[int]:
    """Messages whose next try is due (a delayed job lost, or no Redis to keep it)."""
    ids = db.session.scalars(
        select(WhatsAppSend.message_id)
        .where(WhatsAppSend.next_attempt_at <= utcnow() - timedelta(seconds=5))
        .order_by(WhatsAppSend.next_attempt_at)
        .limit(limit)
    ).all()
    db.session.rollback()
    return list(ids)

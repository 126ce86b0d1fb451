"""A received message's file, downloaded in the background (job
``whatsapp.tasks.download_media``): Graph ``GET /{media-id}`` names a short-lived URL,
fetched with the channel's token, checked by ``core.uploads`` and kept in
``core.storage`` under the client's prefix; the workspace serves it from there.

Audio and video, which ``core.uploads`` does not take as attachments, are kept when
their content is the audio or video type Meta declared (sniffed, never believed), and
are always served as downloads."""

from __future__ import annotations

import io
import re
import secrets
from datetime import timedelta

import puremagic
from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.storage import client_key, get_storage
from core.timeutil import utcnow
from core.uploads import FileKind, UploadRefused, safe_filename, store_upload
from tenant.inbox_models import Message
from tenant.states import MessageDirection, MessageKind
from whatsapp import channels, graph

_STREAMED = {MessageKind.AUDIO, MessageKind.VIDEO}
RETRY_FOR = timedelta(days=1)


def download(message_id: int) -> str:
    """Fetch and keep the message's file once (a message that has it is left alone)."""
    message = db.session.get(Message, message_id)
    if message is None or not message.media_id or message.media_key:
        return "nothing to do"
    channel = channels.channel_of_client(message.client_id)
    if channel is None:
        return "no channel"
    token = channels.access_token(channel)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    try:
        info = graph.media_info(message.media_id, token)
        url = info.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise graph.GraphError(200, "Meta's answer names no media URL")
        answer = graph.download(url, token, limit)
    except graph.GraphError as error:
        if error.retryable:
            return f"later: {error.reason}"  # the sweep tries again (pending)
        return _nothing_kept(message, f"gone: {error.reason}")
    key = client_key(message.reseller_id, message.client_id, "whatsapp", message.id, secrets.token_hex(8))
    name = message.media_name or f"{message.kind}-{message.id}"
    try:
        checked = store_upload(key, io.BytesIO(answer.content), name, max_bytes=limit)
        message.media_type, message.media_name = checked.content_type, checked.filename
    except UploadRefused as refused:
        sniffed = _streamed_type(message, answer.content)
        if sniffed is None:
            return _nothing_kept(message, f"refused: {refused.reason}")
        get_storage().put(key, io.BytesIO(answer.content), sniffed)
        message.media_type = sniffed
        message.media_name = _media_name(name, sniffed)
    message.media_key = key
    db.session.commit()
    return "stored"


def _nothing_kept(message: Message, outcome: str) -> str:
    # Nothing to wait for: the page no longer says the file is on its way.
    message.media_id = None
    message.body = message.body or f"[{message.kind}]"
    db.session.commit()
    return outcome


def pending(limit: int = 200) -> list[int]:
    """Received files still to download whose job is over (failed, or lost): those of the
    last day (Meta keeps a media's URL for a while only), the oldest first."""
    now = utcnow()
    ids = db.session.scalars(
        select(Message.id)
        .where(
            Message.media_id.is_not(None),
            Message.media_key.is_(None),
            Message.direction == MessageDirection.INBOUND,
            Message.created_at >= now - RETRY_FOR,
            Message.created_at <= now - timedelta(minutes=2),
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return list(ids)


def _streamed_type(message: Message, content: bytes) -> str | None:
    """The declared audio/video type, when the content is of that family."""
    declared = (message.media_type or "").split(";")[0].strip().lower()
    if message.kind not in _STREAMED or not _MEDIA_TYPE.fullmatch(declared):
        return None
    if not declared.startswith(f"{message.kind}/"):
        return None
    try:
        guesses = puremagic.magic_string(content[:8192])
    except (puremagic.PureError, ValueError):
        return None
    family = message.kind + "/"
    if any(
        (g.mime_type or "").startswith(family) or g.extension in _EXTENSIONS[message.kind] for g in guesses
    ):
        return declared
    return None


_MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]{1,60}")
_EXTENSIONS = {
    MessageKind.AUDIO: {".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".amr"},
    MessageKind.VIDEO: {".mp4", ".3gp", ".mov", ".m4v"},
}


def _media_name(name: str, content_type: str) -> str:
    extension = re.sub(r"[^a-z0-9]", "", content_type.split("/", 1)[1])[:5] or "bin"
    return safe_filename(name, FileKind(content_type, (extension,)))

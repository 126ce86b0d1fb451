"""A message's file (a contact's photo, audio, video or document received on a channel),
served by our own view to whoever may see its conversation; never a public URL."""

from __future__ import annotations

from flask import abort

from auth.access import current_account
from core.extensions import db
from core.storage import ObjectMissing, get_storage
from core.tenancy import get_or_404
from core.uploads import attachment_response
from tenant import inbox
from tenant.inbox_models import Conversation, Message
from tenant.views.blueprints import bp


@bp.get("/messages/<int:chat_message_id>/media")
def message_media(chat_message_id: int):
    message = get_or_404(Message, chat_message_id)
    visible = inbox.visible_conversations(current_account).where(Conversation.id == message.conversation_id)
    if db.session.scalar(visible) is None:
        abort(404)
    if not message.media_key:
        abort(404)
    try:
        stream = get_storage().open(message.media_key)
    except ObjectMissing:
        abort(404)
    return attachment_response(
        stream, message.media_type or "application/octet-stream", message.media_name or "file"
    )

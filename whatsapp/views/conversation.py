"""What the conversation page sends through WhatsApp besides text (the forms under its
message box, ``whatsapp/_conversation_tools.html``): an approved template of the client's
channel with its parameters filled in (outside the 24-hour window it opens one and uses
one session, ``tenant.inbox.send``), and a file with its caption (inside the window): a
photo, an audio, a video or a document (:mod:`whatsapp.outbound_files`)."""

from __future__ import annotations

import secrets

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from auth.access import current_account
from core.extensions import db
from core.storage import client_key, get_storage
from core.tenancy import get_or_404
from core.uploads import accepts_uploads
from core.validation import parse_int
from tenant import inbox
from tenant.inbox_models import Conversation
from tenant.states import WindowRefusal
from tenant.windows import WindowRefused
from whatsapp import channels, message_templates, outbound_files, sending
from whatsapp.forms import TemplateSendForm
from whatsapp.models import WhatsAppTemplate
from whatsapp.views.blueprints import bp

MAX_CAPTION = 1024
WINDOW_REFUSALS = {
    WindowRefusal.WINDOW_CLOSED: _l(
        "The 24-hour window with this contact is closed: send a template message to reopen it "
        "(it uses one session)."
    ),
    WindowRefusal.SUSPENDED: _l("This account is suspended: new conversations cannot be opened."),
    WindowRefusal.NO_SESSIONS: _l(
        "No sessions left: new conversations cannot be opened. Buy extra conversations."
    ),
    WindowRefusal.CLIENT_GONE: _l("This client is no longer active."),
}


def _conversation_of_channel(conversation_id: int) -> Conversation:
    """The conversation, if the user sees it, may write in it and its client has a channel."""
    conversation = db.session.scalar(
        inbox.visible_conversations(current_account).where(Conversation.id == conversation_id)
    )
    if conversation is None:
        abort(404)
    if conversation.assigned_account_id not in (None, current_account.id) and not inbox.can_assign(
        current_account
    ):
        abort(403)
    if channels.channel_of_client(conversation.client_id) is None:
        abort(404)
    return conversation


def _back(conversation: Conversation):
    return redirect(url_for("tenant.conversation", conversation_id=conversation.id)), 303


@bp.post("/conversations/<int:conversation_id>/whatsapp-template")
@accepts_uploads(1)
def send_template(conversation_id: int):
    conversation = _conversation_of_channel(conversation_id)
    back = _back(conversation)
    form = TemplateSendForm()
    template_id = parse_int(form.template_id.data, min=1)
    if template_id is None:
        abort(404)
    template = get_or_404(WhatsAppTemplate, template_id)
    params = form.params(message_templates.param_keys(template), request.form)
    upload = request.files.get("header_file")
    key = None
    try:
        filled = message_templates.fill_message(
            template,
            params,
            header_text=form.header_param(request.form),
            buttons=form.buttons([b["index"] for b in template.buttons or []], request.form),
            has_file=upload is not None and bool(upload.filename),
        )
        extras = None
        if filled.media:
            key = _file_key(conversation)
            stored = outbound_files.store_header(key, upload.stream, upload.filename, filled.media)
            extras = inbox.Extras(
                kind=stored.kind, media_key=key, media_type=stored.content_type, media_name=stored.filename
            )
        message = inbox.send(
            conversation,
            current_account,
            filled.text,
            template=True,
            actor_id=g.get("actor_account_id"),
            extras=extras,
        )
    except (message_templates.TemplateRefused, outbound_files.FileRefused) as refused:
        flash(str(refused), "error")
        return back
    except WindowRefused as refused:
        db.session.rollback()
        if key is not None:
            get_storage().delete(key)
        flash(str(WINDOW_REFUSALS.get(refused.reason, refused.reason)), "error")
        return back
    sending.use_template(
        sending.send_of(message.id),
        template.name,
        template.language,
        params,
        filled.components,
        names=message_templates.param_names(template),
    )
    if conversation.assigned_account_id is None:
        conversation.assigned_account_id = current_account.id
    db.session.commit()
    return back


def _file_key(conversation: Conversation) -> str:
    return client_key(
        conversation.reseller_id, conversation.client_id, "whatsapp", "out", secrets.token_hex(8)
    )


@bp.post("/conversations/<int:conversation_id>/whatsapp-file")
@accepts_uploads(1)
def send_file(conversation_id: int):
    conversation = _conversation_of_channel(conversation_id)
    upload = request.files.get("file")
    caption = (request.form.get("caption") or "").strip()
    if upload is None or not upload.filename or len(caption) > MAX_CAPTION:
        flash(_l("Choose a file (the caption: up to 1,024 characters)."), "error")
        return _back(conversation)
    key = _file_key(conversation)
    try:
        outgoing = outbound_files.store(key, upload.stream, upload.filename, caption)
    except outbound_files.FileRefused as refused:
        flash(str(refused), "error")
        return _back(conversation)
    extras = inbox.Extras(
        kind=outgoing.kind, media_key=key, media_type=outgoing.content_type, media_name=outgoing.filename
    )
    try:
        inbox.send(conversation, current_account, caption, actor_id=g.get("actor_account_id"), extras=extras)
    except WindowRefused as refused:
        db.session.rollback()
        get_storage().delete(key)
        flash(str(WINDOW_REFUSALS.get(refused.reason, refused.reason)), "error")
        return _back(conversation)
    if conversation.assigned_account_id is None:
        conversation.assigned_account_id = current_account.id
    db.session.commit()
    return _back(conversation)

"""A template message sent from the conversation page (the form under its message box,
``whatsapp/_template_form.html``): an approved template of the client's channel with its
parameters filled in; outside the 24-hour window it opens one and uses one session
(``tenant.inbox.send``)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from auth.access import current_account
from core.extensions import db
from core.tenancy import get_or_404
from core.validation import parse_int
from tenant import inbox
from tenant.inbox_models import Conversation
from tenant.states import WindowRefusal
from tenant.windows import WindowRefused
from whatsapp import channels, message_templates, sending
from whatsapp.forms import TemplateSendForm
from whatsapp.models import WhatsAppTemplate
from whatsapp.views.blueprints import bp

REFUSALS = {
    WindowRefusal.SUSPENDED: _l("This account is suspended: new conversations cannot be opened."),
    WindowRefusal.NO_SESSIONS: _l(
        "No sessions left: new conversations cannot be opened. Buy extra conversations."
    ),
    WindowRefusal.CLIENT_GONE: _l("This client is no longer active."),
}


@bp.post("/conversations/<int:conversation_id>/whatsapp-template")
def send_template(conversation_id: int):
    conversation = db.session.scalar(
        inbox.visible_conversations(current_account).where(Conversation.id == conversation_id)
    )
    if conversation is None:
        abort(404)
    back = redirect(url_for("tenant.conversation", conversation_id=conversation.id)), 303
    if conversation.assigned_account_id not in (None, current_account.id) and not inbox.can_assign(
        current_account
    ):
        abort(403)
    if channels.channel_of_client(conversation.client_id) is None:
        abort(404)
    form = TemplateSendForm()
    template_id = parse_int(form.template_id.data, min=1)
    if template_id is None:
        abort(404)
    template = get_or_404(WhatsAppTemplate, template_id)
    params = form.params(template.parameters, request.form)
    try:
        body = message_templates.fill(template, params)
        message = inbox.send(
            conversation, current_account, body, template=True, actor_id=g.get("actor_account_id")
        )
    except message_templates.TemplateRefused as refused:
        flash(str(refused), "error")
        return back
    except WindowRefused as refused:
        db.session.rollback()
        flash(str(REFUSALS.get(refused.reason, refused.reason)), "error")
        return back
    sending.use_template(sending.send_of(message.id), template.name, template.language, params)
    if conversation.assigned_account_id is None:
        conversation.assigned_account_id = current_account.id
    db.session.commit()
    return back

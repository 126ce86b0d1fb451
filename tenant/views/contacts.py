"""The contacts page: list, search, add, and start a conversation with a template message."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db, limiter
from core.feedback import tell
from core.tenancy import current_client
from tenant import directory, inbox
from tenant.forms import ContactForm, StartConversationForm
from tenant.inbox_models import Contact
from tenant.views.blueprints import bp
from tenant.views.inbox import window_message
from tenant.windows import WindowRefused, contacts_with_open_window


def _contact_creation_key() -> str:
    return f"contacts:{current_account.id}" if current_account else request.remote_addr or ""


@bp.route("/contacts", methods=["GET", "POST"])
# Creations are throttled per user: see directory.add_contact on hidden duplicates.
@limiter.limit("30 per minute", methods=["POST"], key_func=_contact_creation_key)
def contacts():
    errors = {}
    form = ContactForm()
    if request.method == "POST":
        try:
            directory.add_contact(
                current_client,
                current_account,
                name=form.name.data,
                phone=form.phone.data,
                email=form.email.data,
            )
        except directory.ContactRejected as exc:
            errors = exc.errors
        else:
            db.session.commit()
            tell(_("Contact saved."))
            return redirect(url_for("tenant.contacts")), 303
    q = (request.args.get("q") or "").strip()
    found = directory.search_contacts(current_account, q)
    return render_template(
        "tenant/contacts.html",
        client=current_client,
        contacts=found,
        window_open=contacts_with_open_window(current_client.id, [c.id for c in found]),
        q=q,
        errors=errors,
        form=form.submitted(),
    ), (422 if errors else 200)


@bp.post("/contacts/<int:contact_id>/start")
def start_conversation(contact_id: int):
    contact = db.session.scalar(directory.visible_contacts(current_account).where(Contact.id == contact_id))
    if contact is None:
        abort(404)
    body = StartConversationForm().body.data or _("Hello! How can we help you?")
    conv = directory.conversation_with(contact, current_account)
    if not inbox.can_see(current_account, conv):
        abort(403)
    try:
        inbox.send(conv, current_account, body[:4000], template=True, actor_id=g.get("actor_account_id"))
    except WindowRefused as refused:
        db.session.rollback()
        tell(window_message(refused.reason), "error")
        return redirect(url_for("tenant.contacts")), 303
    db.session.commit()
    tell(_("Conversation started with %(name)s.", name=contact.name))
    return redirect(url_for("tenant.conversation", conversation_id=conv.id)), 303

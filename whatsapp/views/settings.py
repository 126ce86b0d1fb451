"""The client's WhatsApp channel settings (``/app/settings/whatsapp``), for users who
manage the inbox: the numbers, the secrets (set or changed, never shown back), the
connection test, the templates' sync and disconnecting the channel."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db
from core.tenancy import current_client
from tenant.inbox import can_manage_inbox
from whatsapp import channels, disconnecting, graph, message_templates
from whatsapp.forms import ChannelForm
from whatsapp.views.blueprints import bp


def _managers_only() -> None:
    if not can_manage_inbox(current_account):
        abort(403)


def _page(form: ChannelForm | None = None, status: int = 200):
    channel = channels.channel_of_client(current_client.id)
    return render_template(
        "whatsapp/settings.html",
        channel=channel,
        form=form,
        templates=message_templates.approved_of(current_client.id) if channel else [],
        webhook_url=url_for("whatsapp_webhook.receive", _external=True),
    ), status


@bp.get("/settings/whatsapp")
def settings_page():
    _managers_only()
    return _page()


@bp.post("/settings/whatsapp")
def save_settings():
    _managers_only()
    form = ChannelForm()
    data = channels.ChannelInput(
        phone_number_id=form.phone_number_id.data or "",
        business_account_id=form.business_account_id.data or "",
        verify_token=form.verify_token.data or "",
        access_token=form.access_token.data or "",
        app_secret=form.app_secret.data or "",
    )
    try:
        channels.save(current_client, data)
    except channels.ChannelRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return _page(form, 422)
    db.session.commit()
    flash(_("WhatsApp settings saved."), "success")
    return redirect(url_for("whatsapp.settings_page")), 303


def _channel_or_404():
    channel = channels.channel_of_client(current_client.id)
    if channel is None:
        abort(404)
    return channel


@bp.post("/settings/whatsapp/test")
def test_connection():
    _managers_only()
    channel = _channel_or_404()
    try:
        name = channels.check_connection(channel)
    except graph.GraphError as error:
        flash(_("The connection failed: %(reason)s", reason=error.reason), "error")
    else:
        flash(_("Connected to WhatsApp: %(name)s.", name=name), "success")
    return redirect(url_for("whatsapp.settings_page")), 303


@bp.post("/settings/whatsapp/templates/sync")
def sync_templates():
    _managers_only()
    channel = _channel_or_404()
    try:
        count = message_templates.sync(channel)
    except graph.GraphError as error:
        db.session.rollback()
        flash(_("The templates could not be read: %(reason)s", reason=error.reason), "error")
    else:
        db.session.commit()
        flash(_("%(count)d approved templates.", count=count), "success")
    return redirect(url_for("whatsapp.settings_page")), 303


@bp.post("/settings/whatsapp/disconnect")
def disconnect():
    _managers_only()
    channel = _channel_or_404()
    cancelled = disconnecting.disconnect(channel)
    db.session.commit()
    flash(_("WhatsApp disconnected: its messages no longer arrive; the history stays."), "success")
    if cancelled:
        flash(_("Messages waiting to be sent, now cancelled: %(count)d.", count=cancelled), "warning")
    return redirect(url_for("whatsapp.settings_page")), 303

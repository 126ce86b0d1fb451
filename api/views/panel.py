"""The panel's page of API clients (``/reseller/api``): the list, a new client with its
secret shown once, a second secret, a secret revoked, a client deleted."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from api import credentials
from api.forms import SCOPE_LABELS, ApiClientForm
from api.models import ApiClient
from api.views.blueprints import panel_bp
from auth import permissions as perm
from auth.access import current_account, require_permission
from core.extensions import db
from core.tenancy import get_or_404, require_reseller


def _page(form=None, *, new_secret=None, for_client=None, status=200):
    reseller = require_reseller()
    return render_template(
        "api/clients.html",
        api_clients=credentials.list_clients(reseller.id),
        form=form or ApiClientForm(formdata=None),
        scope_labels=SCOPE_LABELS,
        new_secret=new_secret,
        for_client=for_client,
    ), status


@panel_bp.get("")
@require_permission(perm.API)
def clients():
    return _page()


@panel_bp.post("")
@require_permission(perm.API)
def client_new():
    reseller = require_reseller()
    form = ApiClientForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        api_client, secret = credentials.create_client(
            reseller.id, form.name.data, form.scopes.data, account=current_account
        )
    except credentials.ApiClientRejected as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            getattr(form, name).errors = [message]
        return _page(form, status=422)
    db.session.commit()
    # Shown on this answer only (never stored, never in a redirect or a flash message).
    return _page(new_secret=secret, for_client=api_client)


@panel_bp.post("/<int:api_client_id>/secrets")
@require_permission(perm.API)
def secret_new(api_client_id: int):
    api_client = get_or_404(ApiClient, api_client_id, for_update=True)
    try:
        secret = credentials.add_secret(api_client)
    except credentials.ApiClientRejected as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for("api_panel.clients"))
    db.session.commit()
    return _page(new_secret=secret, for_client=api_client)


@panel_bp.post("/<int:api_client_id>/secrets/<int:secret_id>/revoke")
@require_permission(perm.API)
def secret_revoke(api_client_id: int, secret_id: int):
    api_client = get_or_404(ApiClient, api_client_id, for_update=True)
    if credentials.revoke_secret(api_client, secret_id) is None:
        db.session.rollback()
        return _page(status=404)
    db.session.commit()
    flash(_("The secret was revoked."), "success")
    return redirect(url_for("api_panel.clients"))


@panel_bp.post("/<int:api_client_id>/delete")
@require_permission(perm.API)
def client_delete(api_client_id: int):
    api_client = get_or_404(ApiClient, api_client_id, for_update=True)
    name = api_client.name
    credentials.delete_client(api_client)
    db.session.commit()
    flash(_("The API client %(name)s was deleted; its tokens no longer work.", name=name), "success")
    return redirect(url_for("api_panel.clients"))

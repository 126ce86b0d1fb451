"""Adding and editing a client, inactivating and reactivating it, and its photo."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from auth import permissions as perm
from auth.access import require_permission
from core.extensions import db
from core.redirects import safe_local_target
from core.tenancy import get_or_404, require_reseller
from core.validation import parse_int
from reseller.forms import ClientForm
from reseller.views.blueprint import bp
from tenant import clients as client_services
from tenant import documents, phones
from tenant.models import Client


def _form_data(form: ClientForm, definitions) -> client_services.ClientData:
    def text(field):
        return (field.data or "").strip()

    responsible_id = form.responsible_account_id.data
    return client_services.ClientData(
        trade_name=text(form.trade_name),
        legal_name=text(form.legal_name),
        email=text(form.email),
        document_type=form.document_type.data,
        document=text(form.document),
        sla_level=form.sla_level.data,
        phone=text(form.phone),
        postal_code=text(form.postal_code),
        street=text(form.street),
        street_number=text(form.street_number),
        complement=text(form.complement),
        district=text(form.district),
        city=text(form.city),
        state=text(form.state),
        responsible_email=text(form.responsible_email),
        responsible_name=text(form.responsible_name),
        responsible_account_id=parse_int(responsible_id, min=1),
        custom={d.id: request.form.get(f"cf_{d.id}", "") for d in definitions},
    )


def _apply_errors(form: ClientForm, errors: dict) -> dict:
    """Attach service errors to form fields; return those that have no field."""
    rest = {}
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            rest[name] = message
    return rest


@bp.route("/clients/new", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def client_new():
    reseller = require_reseller()
    form = ClientForm()
    form.responsible_account_id.choices = [SelectChoice("", _("Create from the e-mail below"))]
    definitions = client_services.active_custom_fields(reseller.id)
    extra_errors: dict = {}
    if form.validate_on_submit():
        try:
            client = client_services.create_client(
                reseller.id, _form_data(form, definitions), photo=form.photo.data or None
            )
        except client_services.ClientRejected as exc:
            db.session.rollback()
            extra_errors = _apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Client %(name)s added.", name=client.trade_name), "success")
            return redirect(url_for("reseller.clients"))
    return render_template(
        "reseller/client_form.html",
        form=form,
        client=None,
        definitions=definitions,
        extra_errors=extra_errors,
        values=request.form,
    ), (422 if request.method == "POST" else 200)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def client_edit(client_id: int):
    reseller = require_reseller()
    client = get_or_404(Client, client_id)
    users = client_services.client_users(client)
    form = ClientForm(obj=client if request.method == "GET" else None)
    choices = [SelectChoice(str(u.id), f"{u.name} <{u.email}>") for u in users]
    choices.append(SelectChoice("", _("Add a new user with the e-mail below")))
    form.responsible_account_id.choices = choices
    if request.method == "GET":
        form.responsible_account_id.data = str(client.responsible_account_id or "")
        form.document.data = documents.format_document(client.document_type, client.document)
        form.phone.data = phones.format_phone(client.phone)
        form.postal_code.data = documents.format_cep(client.postal_code)
        form.state.data = client.state or ""
    definitions = client_services.active_custom_fields(reseller.id)
    values = (
        request.form
        if request.method == "POST"
        else {f"cf_{v.definition_id}": v.value for v in client.custom_values}
    )
    extra_errors: dict = {}
    if form.validate_on_submit():
        try:
            client_services.update_client(
                client, _form_data(form, definitions), photo=form.photo.data or None
            )
        except client_services.ClientRejected as exc:
            db.session.rollback()
            client = get_or_404(Client, client_id)
            extra_errors = _apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Client %(name)s saved.", name=client.trade_name), "success")
            return redirect(url_for("reseller.client_page", client_id=client.id))
    return render_template(
        "reseller/client_form.html",
        form=form,
        client=client,
        definitions=definitions,
        extra_errors=extra_errors,
        values=values,
    ), (422 if request.method == "POST" else 200)


def _back_to_list():
    listing = url_for("reseller.clients")
    target = safe_local_target(request.form.get("next"))
    if target is None or not target.startswith(listing):
        target = listing
    return redirect(target)


@bp.post("/clients/<int:client_id>/inactivate")
@require_permission(perm.CLIENTS)
def client_inactivate(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    blockers = client_services.inactivate_client(client)
    if blockers:
        db.session.rollback()
        flash(
            _(
                "%(name)s cannot be inactivated: %(reasons)s",
                name=client.trade_name,
                reasons=" ".join(blockers),
            ),
            "error",
        )
    else:
        db.session.commit()
        flash(_("%(name)s was inactivated.", name=client.trade_name), "success")
    return _back_to_list()


@bp.post("/clients/<int:client_id>/reactivate")
@require_permission(perm.CLIENTS)
def client_reactivate(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    client_services.reactivate_client(client)
    db.session.commit()
    flash(_("%(name)s was reactivated.", name=client.trade_name), "success")
    return _back_to_list()


@bp.get("/clients/<int:client_id>/photo")
@require_permission(perm.CLIENTS)
def client_photo(client_id: int):
    client = get_or_404(Client, client_id)
    if not client.photo_path:
        abort(404)
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / client.photo_path).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return send_file(path, max_age=3600)

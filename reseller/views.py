"""The reseller panel (``/reseller/...``): thin views over the client services."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectChoice

from auth import permissions as perm
from auth.services import current_account, has_permission, require_permission
from billing.models import Plan
from core import jobs
from core.extensions import db
from core.redirects import safe_local_target
from core.tenancy import get_or_404, require_reseller
from core.validation import parse_int
from reseller import client_list
from reseller.exports import export_file_name, export_rows, write_xlsx
from reseller.forms import ClientForm, CustomFieldForm
from reseller.models import ExportJob
from tenant import documents
from tenant import services as client_services
from tenant.models import PAYMENT_STATUSES, PAYMENT_TYPES, Client, CustomFieldDefinition

bp = Blueprint("reseller", __name__, url_prefix="/reseller", template_folder="templates")


@bp.before_request
def _staff_only():
    if current_account and not current_account.is_staff:
        abort(403)


@bp.app_template_global()
def format_document(kind, value):
    return documents.format_document(kind, value)


PAYMENT_TYPE_LABELS = {
    "card": _l("Card"),
    "boleto": _l("Boleto"),
    "pix": _l("PIX"),
    "stripe": _l("Stripe (card, boleto or PIX)"),
    "transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
}
PAYMENT_STATUS_LABELS = {
    "paid": _l("Paid"),
    "pending": _l("Pending"),
    "overdue": _l("Overdue"),
    "failed": _l("Failed"),
    "refunded": _l("Refunded"),
    "cancelled": _l("Cancelled"),
}


PERIOD_LABELS = {"monthly": _l("Monthly"), "quarterly": _l("Quarterly"), "yearly": _l("Yearly")}


@bp.app_template_global()
def period_label(value):
    return PERIOD_LABELS.get(value, value)


@bp.app_template_global()
def payment_type_label(value):
    return PAYMENT_TYPE_LABELS.get(value, value)


@bp.app_template_global()
def payment_status_label(value):
    return PAYMENT_STATUS_LABELS.get(value, value)


@bp.app_template_global()
def format_phone(value):
    return documents.format_phone(value)


def _plans(reseller_id: int) -> list[Plan]:
    return list(
        db.session.scalars(
            select(Plan)
            .where(Plan.reseller_id == reseller_id)
            .order_by(Plan.retired_at.is_not(None), Plan.name)
        )
    )


@bp.get("/")
def index():
    return redirect(url_for("reseller.clients"))


@bp.get("/clients")
@require_permission(perm.CLIENTS)
def clients():
    reseller = require_reseller()
    plans = _plans(reseller.id)
    filters = client_list.ClientFilters.from_args(request.args, plan_ids={p.id for p in plans})
    page = client_list.list_clients(reseller.id, filters)
    context = dict(
        page=page,
        filters=filters,
        plans=plans,
        payment_types=PAYMENT_TYPES,
        payment_statuses=PAYMENT_STATUSES,
        sync_limit=current_app.config["EXPORT_SYNC_MAX_ROWS"],
    )
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        response = make_response(render_template("reseller/_client_results.html", **context))
        # The address bar shows the canonical query (no empty or default parameters).
        query = filters.url_query()
        response.headers["HX-Push-Url"] = url_for("reseller.clients") + (f"?{query}" if query else "")
        # htmx swaps only 2xx answers: the message about a bad filter must show.
        return response
    # A bad filter value is a 400 that still shows the list without it, and says why.
    return render_template("reseller/clients.html", **context), (400 if filters.errors else 200)


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
        form.phone.data = documents.format_phone(client.phone)
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
            return redirect(url_for("reseller.clients"))
    return render_template(
        "reseller/client_form.html",
        form=form,
        client=client,
        definitions=definitions,
        extra_errors=extra_errors,
        values=values,
    ), (422 if request.method == "POST" else 200)


def _back_to_list():
    target = safe_local_target(request.form.get("next"))
    if target is None or not target.startswith("/reseller/clients"):
        target = url_for("reseller.clients")
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


# --- export -------------------------------------------------------------------------


@bp.get("/clients/export.xlsx")
@require_permission(perm.CLIENTS)
def clients_export():
    """The filtered list as XLSX; large ones are offered as a background job instead."""
    reseller = require_reseller()
    plans = _plans(reseller.id)
    filters = client_list.ClientFilters.from_args(request.args, plan_ids={p.id for p in plans})
    if filters.errors:
        flash(" ".join(filters.errors), "error")
        return redirect(url_for("reseller.clients", **filters.query_args()))
    total = client_list.count_clients(reseller.id, filters)
    if total > current_app.config["EXPORT_SYNC_MAX_ROWS"]:
        return render_template("reseller/export_confirm.html", filters=filters, total=total)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to send_file, closed by it
    write_xlsx(spool, export_rows(db.session, reseller.id, filters))
    spool.seek(0)
    return send_file(
        spool,
        as_attachment=True,
        download_name=export_file_name(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.post("/exports")
@require_permission(perm.CLIENTS)
def export_start():
    reseller = require_reseller()
    plans = _plans(reseller.id)
    filters = client_list.ClientFilters.from_args(request.form, plan_ids={p.id for p in plans})
    if filters.errors:
        flash(" ".join(filters.errors), "error")
        return redirect(url_for("reseller.clients"))
    export = ExportJob(
        reseller_id=reseller.id,
        requested_by_account_id=current_account.id,
        filters=filters.filter_args(),
        locale=str(get_locale()),
    )
    db.session.add(export)
    db.session.flush()
    jobs.enqueue(
        "reseller.tasks.run_client_export",
        export.id,
        queue="exports",
        job_id=f"client-export-{export.id}",
        timeout=1800,
        retries=2,
    )
    db.session.commit()
    return redirect(url_for("reseller.export_status", export_id=export.id))


def _own_export(export_id: int) -> ExportJob:
    export = get_or_404(ExportJob, export_id)
    if export.requested_by_account_id != current_account.id:
        abort(404)
    return export


@bp.get("/exports/<int:export_id>")
@require_permission(perm.CLIENTS)
def export_status(export_id: int):
    export = _own_export(export_id)
    template = (
        "reseller/_export_progress.html"
        if request.headers.get("HX-Request")
        else "reseller/export_status.html"
    )
    return render_template(template, export=export)


@bp.get("/exports/<int:export_id>/download")
@require_permission(perm.CLIENTS)
def export_download(export_id: int):
    export = _own_export(export_id)
    if export.status != "done" or not export.file_path or not Path(export.file_path).is_file():
        abort(404)
    return send_file(
        export.file_path,
        as_attachment=True,
        download_name=export.file_name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- custom fields ------------------------------------------------------------------


@bp.route("/settings/custom-fields", methods=["GET", "POST"])
@require_permission(perm.CLIENTS)
def custom_fields():
    reseller = require_reseller()
    form = CustomFieldForm()
    if form.validate_on_submit():
        options = [o.strip() for o in (form.options.data or "").split(",") if o.strip()]
        if form.field_type.data == "select" and not options:
            form.options.errors = [_("A list needs at least one option.")]
        else:
            from tenant.models import fold

            key = "".join(c if c.isalnum() else "_" for c in fold(form.label.data))[:40].strip("_") or "field"
            taken = set(
                db.session.scalars(
                    select(CustomFieldDefinition.key).where(CustomFieldDefinition.reseller_id == reseller.id)
                )
            )
            base, n = key, 2
            while key in taken:
                key, n = f"{base[:36]}_{n}", n + 1
            db.session.add(
                CustomFieldDefinition(
                    reseller_id=reseller.id,
                    key=key,
                    label=form.label.data.strip(),
                    field_type=form.field_type.data,
                    required=form.required.data,
                    options=options,
                    position=form.position.data or 0,
                )
            )
            db.session.commit()
            flash(_("Field added."), "success")
            return redirect(url_for("reseller.custom_fields"))
    definitions = list(
        db.session.scalars(
            select(CustomFieldDefinition)
            .where(CustomFieldDefinition.reseller_id == reseller.id)
            .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
        )
    )
    return render_template("reseller/custom_fields.html", form=form, definitions=definitions)


@bp.post("/settings/custom-fields/<int:field_id>/toggle")
@require_permission(perm.CLIENTS)
def custom_field_toggle(field_id: int):
    definition = get_or_404(CustomFieldDefinition, field_id)
    definition.active = not definition.active
    db.session.commit()
    return redirect(url_for("reseller.custom_fields"))


@bp.app_context_processor
def _panel_helpers():
    return {"staff_can": has_permission}

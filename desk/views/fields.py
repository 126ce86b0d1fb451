"""A desk's *Campos* tab: the custom fields of its ticket form."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.extensions import db
from core.tenancy import get_or_404
from desk import fields as field_rules
from desk.errors import DeskRejected
from desk.models import Desk, DeskField
from desk.states import ClientVisibility, FieldType
from desk.views.blueprint import attempt, bp


def _field_of(desk: Desk, field_id: int) -> DeskField:
    definition = get_or_404(DeskField, field_id)
    if definition.desk_id != desk.id:
        abort(404)  # another desk's field
    return definition


def _render(desk: Desk, errors: dict, status: int = 200):
    return render_template(
        "desk/desk_fields.html",
        desk=desk,
        tab="fields",
        fields=field_rules.desk_fields(desk),
        types=list(FieldType),
        visibilities=list(ClientVisibility),
        errors=errors,
        posted=request.form if errors else {},
    ), status


@bp.get("/<int:desk_id>/fields")
def desk_fields(desk_id: int):
    return _render(get_or_404(Desk, desk_id), {})


@bp.post("/<int:desk_id>/fields")
def desk_field_add(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    form = request.form
    try:
        definition = field_rules.add_field(
            desk,
            form.get("label", ""),
            form.get("field_type", ""),
            form.get("options", ""),
            bool(form.get("required")),
            form.get("client_visibility", ""),
        )
    except DeskRejected as exc:
        db.session.rollback()
        return _render(get_or_404(Desk, desk_id), exc.errors, 422)
    db.session.commit()
    flash(_("Field %(label)s added.", label=definition.label), "success")
    return redirect(url_for("desk.desk_fields", desk_id=desk_id))


@bp.post("/<int:desk_id>/fields/<int:desk_field_id>")
def desk_field_edit(desk_id: int, desk_field_id: int):
    desk = get_or_404(Desk, desk_id)
    definition = _field_of(desk, desk_field_id)
    form = request.form
    attempt(
        lambda: field_rules.update_field(
            definition,
            form.get("label", ""),
            form.get("options", ""),
            bool(form.get("required")),
            form.get("client_visibility", ""),
        ),
        _("Field %(label)s saved.", label=definition.label),
    )
    return redirect(url_for("desk.desk_fields", desk_id=desk_id))


@bp.post("/<int:desk_id>/fields/<int:desk_field_id>/archive")
def desk_field_archive(desk_id: int, desk_field_id: int):
    definition = _field_of(get_or_404(Desk, desk_id), desk_field_id)
    field_rules.archive_field(definition)
    db.session.commit()
    flash(_("Field %(label)s archived.", label=definition.label), "success")
    return redirect(url_for("desk.desk_fields", desk_id=desk_id))

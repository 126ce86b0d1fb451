"""The reseller's settings pages: the clients' custom fields."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import require_permission
from core.extensions import db
from core.tenancy import get_or_404, require_reseller, scoped_select
from reseller.forms import CustomFieldForm
from reseller.views.blueprint import bp
from tenant.models import CustomFieldDefinition, fold


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
            key = "".join(c if c.isalnum() else "_" for c in fold(form.label.data))[:40].strip("_") or "field"
            taken = set(db.session.scalars(scoped_select(CustomFieldDefinition, CustomFieldDefinition.key)))
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
            scoped_select(CustomFieldDefinition).order_by(
                CustomFieldDefinition.position, CustomFieldDefinition.id
            )
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

"""The reseller's staff roles (``/reseller/roles``): list, create, edit, delete. The
rules (the built-in Owner, granting only what one holds, no deleting a role in use,
the audit before and after) are :mod:`auth.roles`'s."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth import roles as role_rules
from auth.access import current_account, require_permission
from auth.models import Role
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from reseller.forms import RoleForm
from reseller.views.blueprint import bp


def _show_errors(form: RoleForm, errors: dict[str, str]) -> None:
    for key, message in errors.items():
        field = getattr(form, key, None) or form.name
        field.errors = [*field.errors, message]


def _render(form: RoleForm, role: Role | None):
    held = role_rules.held_permissions(current_account)
    return render_template(
        "reseller/role_form.html",
        form=form,
        role=role,
        held=held,
        permission_labels=perm.STAFF_PERMISSIONS,
    ), (422 if form.errors else 200)


@bp.get("/roles")
@require_permission(perm.STAFF_SETTINGS)
def roles():
    reseller = require_reseller()
    rows = role_rules.roles_with_use(reseller.id)
    return render_template(
        "reseller/roles.html", rows=rows, permission_labels=perm.STAFF_PERMISSIONS, reseller=reseller
    )


@bp.route("/roles/new", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
def role_new():
    reseller = require_reseller()
    form = RoleForm()
    if form.validate_on_submit():
        try:
            role = role_rules.create_role(reseller.id, current_account, form.name.data, form.permissions.data)
        except role_rules.RoleRejected as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Role %(name)s created.", name=role.name), "success")
            return redirect(url_for("reseller.roles"))
    return _render(form, None)


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
def role_edit(role_id: int):
    role = get_or_404(Role, role_id)
    if role.is_owner:
        flash(_("The Owner role is built in: it holds every permission and cannot be changed."), "info")
        return redirect(url_for("reseller.roles"))
    form = RoleForm(data={"name": role.name, "permissions": sorted(role.effective_permissions)})
    if form.validate_on_submit():
        try:
            changed = role_rules.update_role(role, current_account, form.name.data, form.permissions.data)
        except role_rules.RoleRejected as exc:
            db.session.rollback()
            _show_errors(form, exc.errors)
        else:
            db.session.commit()
            if changed:
                flash(
                    _("Role %(name)s saved: it applies from the next page its staff open.", name=role.name),
                    "success",
                )
            return redirect(url_for("reseller.roles"))
    return _render(form, role)


@bp.post("/roles/<int:role_id>/delete")
@require_permission(perm.STAFF_SETTINGS)
def role_delete(role_id: int):
    role = get_or_404(Role, role_id)
    name = role.name
    try:
        role_rules.delete_role(role)
    except role_rules.RoleRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Role %(name)s deleted.", name=name), "success")
    return redirect(url_for("reseller.roles"))

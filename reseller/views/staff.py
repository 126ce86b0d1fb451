"""The reseller's staff (``/reseller/staff``): list, invite, edit, deactivate,
reactivate, resend the invitation. The rules are :mod:`auth.staff`'s."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func

from auth import permissions as perm
from auth import roles as role_rules
from auth import staff as staff_rules
from auth import staff_invitations
from auth.access import current_account, require_permission
from auth.models import Account, Role
from core.extensions import db, limiter
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.validation import parse_int
from reseller.forms import StaffForm, StaffInviteForm
from reseller.views.blueprint import bp


def _staff_or_404(staff_id: int) -> Account:
    account = get_or_404(Account, staff_id)
    if not account.is_staff:
        abort(404)
    return account


def _role_choices(form: StaffForm) -> None:
    # Owner last: the form's first (default) choice is never the role that can do everything.
    roles = db.session.scalars(scoped_select(Role).order_by(Role.is_owner, func.lower(Role.name))).all()
    form.role_id.choices = [(str(r.id), r.label) for r in roles]


def _chosen_role(reseller_id: int, form: StaffForm) -> Role | None:
    role = role_rules.role_of_reseller(reseller_id, parse_int(form.role_id.data, min=1))
    if role is None:
        form.role_id.errors = [*form.role_id.errors, _("Choose a role from the list.")]
    return role


def _show_errors(form: StaffForm, errors: dict[str, str]) -> None:
    for key, message in errors.items():
        field = {"role": form.role_id}.get(key) or getattr(form, key, None) or form.name
        field.errors = [*field.errors, message]


@bp.get("/staff")
@require_permission(perm.STAFF_SETTINGS)
def staff():
    reseller = require_reseller()
    rows = staff_rules.staff_list(reseller.id)
    return render_template("reseller/staff.html", rows=rows, reseller=reseller)


@bp.route("/staff/invite", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
@limiter.limit("30 per hour", methods=["POST"])
def staff_invite():
    reseller = require_reseller()
    form = StaffInviteForm()
    _role_choices(form)
    if form.validate_on_submit():
        role = _chosen_role(reseller.id, form)
        if role is not None:
            try:
                account = staff_invitations.invite(
                    reseller, current_account, email=form.email.data, name=form.name.data, role=role
                )
            except staff_rules.StaffRejected as exc:
                db.session.rollback()
                _role_choices(form)
                _show_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(_("Invitation sent to %(email)s.", email=account.email), "success")
                return redirect(url_for("reseller.staff"))
    return render_template("reseller/staff_form.html", form=form, member=None), (422 if form.errors else 200)


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@require_permission(perm.STAFF_SETTINGS)
def staff_edit(staff_id: int):
    reseller = require_reseller()
    member = _staff_or_404(staff_id)
    form = StaffForm(data={"name": member.name, "role_id": str(member.role_id)})
    _role_choices(form)
    if form.validate_on_submit():
        role = _chosen_role(reseller.id, form)
        if role is not None:
            try:
                changed = staff_rules.update_staff(member, current_account, name=form.name.data, role=role)
            except staff_rules.StaffRejected as exc:
                db.session.rollback()
                _role_choices(form)
                _show_errors(form, exc.errors)
            else:
                db.session.commit()
                if changed:
                    flash(_("%(name)s saved.", name=member.name), "success")
                return redirect(url_for("reseller.staff"))
    is_self = member.id == current_account.id
    return render_template("reseller/staff_form.html", form=form, member=member, is_self=is_self), (
        422 if form.errors else 200
    )


def _act(staff_id: int, rule, done: str):
    """Apply ``rule(member, actor)`` to a staff member: its refusal flashed, else ``done``."""
    member = _staff_or_404(staff_id)
    try:
        rule(member, current_account)
    except staff_rules.StaffRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(done % {"name": member.name, "email": member.email}, "success")
    return redirect(url_for("reseller.staff"))


@bp.post("/staff/<int:staff_id>/deactivate")
@require_permission(perm.STAFF_SETTINGS)
def staff_deactivate(staff_id: int):
    return _act(staff_id, staff_rules.deactivate, _("%(name)s was deactivated: their sessions have ended."))


@bp.post("/staff/<int:staff_id>/reactivate")
@require_permission(perm.STAFF_SETTINGS)
def staff_reactivate(staff_id: int):
    return _act(staff_id, staff_rules.reactivate, _("%(name)s is active again."))


@bp.post("/staff/<int:staff_id>/resend")
@require_permission(perm.STAFF_SETTINGS)
def staff_resend(staff_id: int):
    return _act(staff_id, staff_invitations.resend, _("A new invitation was sent to %(email)s."))

"""The desks list, the new desk form and a desk's *Dados* tab (edit, archive, restore)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from desk import desks as desk_rules
from desk import policies, ratings
from desk.errors import DeskRejected
from desk.models import Desk
from desk.views.blueprint import bp, form_list, may_choose_desk_staff

FORM_FIELDS = (
    "name",
    "intake_email",
    "default_priority",
    "sla_policy_id",
    "calendar_id",
    "reopen_window_days",
    "review_timeout_days",
    "approval_rule",
    "approvals_needed",
)


def _data_of(desk: Desk | None) -> desk_rules.DeskData:
    if desk is None:
        return desk_rules.DeskData()
    return desk_rules.DeskData(
        **{name: "" if getattr(desk, name) is None else str(getattr(desk, name)) for name in FORM_FIELDS},
        staff_ids=[str(i) for i in desk_rules.staff_ids(desk)],
        mail_default="1" if desk.mail_default else "",
    )


def _posted() -> desk_rules.DeskData:
    return desk_rules.DeskData(
        **{name: request.form.get(name, "") for name in FORM_FIELDS},
        staff_ids=form_list("staff_ids"),
        mail_default=request.form.get("mail_default", ""),
    )


def _render_form(desk: Desk | None, data: desk_rules.DeskData, errors: dict):
    reseller = require_reseller()
    return render_template(
        "desk/desk_form.html",
        desk=desk,
        data=data,
        errors=errors,
        tab="data",
        staff=desk_rules.staff_choices(reseller.id),
        may_choose_staff=may_choose_desk_staff(),
        policy_choices=[(p.id, p.name) for p in policies.policies(reseller.id)],
        calendar_choices=[(c.id, c.name) for c in policies.calendars(reseller.id)],
    ), (422 if errors else 200)


@bp.get("")
def desks():
    reseller = require_reseller()
    search = request.args.get("q", "")[:80]
    archived = request.args.get("archived") == "1"
    rows = desk_rules.desk_rows(reseller.id, search=search, archived=archived)
    return render_template(
        "desk/desks.html",
        rows=rows,
        search=search,
        archived=archived,
        ratings=ratings.desk_ratings(reseller.id),
    )


@bp.route("/new", methods=["GET", "POST"])
def desk_new():
    reseller = require_reseller()
    if request.method == "GET":
        return _render_form(None, _data_of(None), {})
    data = _posted()
    if not may_choose_desk_staff():
        data.staff_ids = [str(current_account.id)]
    try:
        desk = desk_rules.create_desk(reseller.id, data)
    except DeskRejected as exc:
        db.session.rollback()
        return _render_form(None, data, exc.errors)
    db.session.commit()
    flash(_("Desk %(name)s created.", name=desk.name), "success")
    return redirect(url_for("desk.desk_clients", desk_id=desk.id))


@bp.route("/<int:desk_id>", methods=["GET", "POST"])
def desk_page(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    if request.method == "GET":
        return _render_form(desk, _data_of(desk), {})
    data = _posted()
    if not may_choose_desk_staff():
        data.staff_ids = [str(i) for i in desk_rules.staff_ids(desk)]
    try:
        changed = desk_rules.update_desk(desk, data)
    except DeskRejected as exc:
        db.session.rollback()
        return _render_form(get_or_404(Desk, desk_id), data, exc.errors)
    db.session.commit()
    flash(_("Desk %(name)s saved.", name=desk.name) if changed else _("Nothing changed."), "success")
    return redirect(url_for("desk.desk_page", desk_id=desk.id))


@bp.post("/<int:desk_id>/archive")
def desk_archive(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    desk_rules.archive_desk(desk)
    db.session.commit()
    flash(_("Desk %(name)s archived.", name=desk.name), "success")
    return redirect(url_for("desk.desks"))


@bp.post("/<int:desk_id>/restore")
def desk_restore(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    desk_rules.restore_desk(desk)
    db.session.commit()
    flash(_("Desk %(name)s restored.", name=desk.name), "success")
    return redirect(url_for("desk.desk_page", desk_id=desk.id))

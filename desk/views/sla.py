"""SLA policies (targets per priority) and business calendars (``/reseller/desks/sla``)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from desk import policies as rules
from desk.errors import DeskRejected
from desk.models import BusinessCalendar, SlaPolicy
from desk.states import Priority
from desk.views.blueprint import attempt, bp

# The zones a Brazilian reseller needs first; any IANA zone is accepted.
COMMON_ZONES = (
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Cuiaba",
    "America/Fortaleza",
    "America/Noronha",
)


@bp.get("/sla")
def sla():
    reseller = require_reseller()
    return render_template(
        "desk/sla.html", policies=rules.policies(reseller.id), calendars=rules.calendars(reseller.id)
    )


def _policy_form(policy: SlaPolicy | None, values: dict, errors: dict):
    return render_template(
        "desk/policy_form.html",
        policy=policy,
        values=values,
        errors=errors,
        priorities=list(Priority),
        target_kinds=rules.TARGET_KINDS,
    ), (422 if errors else 200)


def _policy_values(policy: SlaPolicy | None) -> dict:
    if policy is None:
        return {"name": "", "expiring_percent": "80"}
    values = {"name": policy.name, "expiring_percent": str(policy.expiring_percent)}
    for target in policy.targets:
        for kind in rules.TARGET_KINDS:
            minutes = getattr(target, kind)
            values[f"{target.priority}.{kind}"] = "" if minutes is None else str(minutes)
    return values


def _save_policy(policy: SlaPolicy | None):
    reseller = require_reseller()
    if request.method == "GET":
        return _policy_form(policy, _policy_values(policy), {})
    form = request.form
    try:
        saved = rules.save_policy(
            reseller.id, policy, form.get("name", ""), form.get("expiring_percent", ""), form
        )
    except DeskRejected as exc:
        db.session.rollback()
        return _policy_form(policy, form, exc.errors)
    db.session.commit()
    flash(_("SLA policy %(name)s saved.", name=saved.name), "success")
    return redirect(url_for("desk.sla"))


@bp.route("/sla/policies/new", methods=["GET", "POST"])
def policy_new():
    return _save_policy(None)


@bp.route("/sla/policies/<int:policy_id>", methods=["GET", "POST"])
def policy_edit(policy_id: int):
    return _save_policy(get_or_404(SlaPolicy, policy_id))


@bp.post("/sla/policies/<int:policy_id>/delete")
def policy_delete(policy_id: int):
    attempt(lambda: rules.delete_policy(get_or_404(SlaPolicy, policy_id)), _("SLA policy deleted."))
    return redirect(url_for("desk.sla"))


def _calendar_form(calendar: BusinessCalendar | None, values: dict, errors: dict):
    return render_template(
        "desk/calendar_form.html",
        calendar=calendar,
        values=values,
        errors=errors,
        weekdays=rules.WEEKDAYS,
        zones=sorted(available_timezones()),
        common_zones=COMMON_ZONES,
    ), (422 if errors else 200)


def _calendar_values(calendar: BusinessCalendar | None) -> dict:
    if calendar is None:
        return {"name": "", "timezone": COMMON_ZONES[0], "use_national_holidays": "1"}
    values = {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "use_national_holidays": "1" if calendar.use_national_holidays else "",
    }
    for day in rules.WEEKDAYS:
        values[f"hours_{day}"] = rules.hours_text((calendar.hours or {}).get(day))
    return values


def _save_calendar(calendar: BusinessCalendar | None):
    reseller = require_reseller()
    if request.method == "GET":
        return _calendar_form(calendar, _calendar_values(calendar), {})
    form = request.form
    hours = {day: form.get(f"hours_{day}", "") for day in rules.WEEKDAYS}
    try:
        saved = rules.save_calendar(
            reseller.id,
            calendar,
            form.get("name", ""),
            form.get("timezone", ""),
            bool(form.get("use_national_holidays")),
            hours,
        )
    except DeskRejected as exc:
        db.session.rollback()
        return _calendar_form(calendar, form, exc.errors)
    db.session.commit()
    flash(_("Calendar %(name)s saved.", name=saved.name), "success")
    return redirect(url_for("desk.calendar_edit", calendar_id=saved.id))


@bp.route("/sla/calendars/new", methods=["GET", "POST"])
def calendar_new():
    return _save_calendar(None)


@bp.route("/sla/calendars/<int:calendar_id>", methods=["GET", "POST"])
def calendar_edit(calendar_id: int):
    return _save_calendar(get_or_404(BusinessCalendar, calendar_id))


@bp.post("/sla/calendars/<int:calendar_id>/dates")
def calendar_date_add(calendar_id: int):
    calendar = get_or_404(BusinessCalendar, calendar_id)
    form = request.form
    attempt(lambda: rules.add_date(calendar, form.get("day", ""), form.get("date_name", "")), _("Day added."))
    return redirect(url_for("desk.calendar_edit", calendar_id=calendar_id))


@bp.post("/sla/calendars/<int:calendar_id>/dates/<int:date_id>/remove")
def calendar_date_remove(calendar_id: int, date_id: int):
    calendar = get_or_404(BusinessCalendar, calendar_id)
    try:
        rules.remove_date(calendar, date_id)
    except DeskRejected:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(_("Day removed."), "success")
    return redirect(url_for("desk.calendar_edit", calendar_id=calendar_id))


@bp.post("/sla/calendars/<int:calendar_id>/delete")
def calendar_delete(calendar_id: int):
    attempt(lambda: rules.delete_calendar(get_or_404(BusinessCalendar, calendar_id)), _("Calendar deleted."))
    return redirect(url_for("desk.sla"))

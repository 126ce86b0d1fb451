"""The desk pages' blueprint (``/reseller/desks/...``), defined here once: staff with the
*service desks* permission only. ``desk.views`` imports each page module.

The pages sit in the staff panel, whose layout is the package above's: it registers the
template name as ``staff_layout`` at start-up (``reseller.init_app``); desk never names it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, request

from auth import permissions as perm
from auth.access import current_account, has_permission
from core.extensions import db
from desk.errors import DeskRejected
from desk.staffing import works_desk, works_every_desk
from desk.views import labels

bp = Blueprint("desk", __name__, url_prefix="/reseller/desks", template_folder="../templates")


@bp.before_request
def _staff_with_desks_only():
    if current_account and not current_account.is_staff:
        abort(403)
    if current_account and not has_permission(perm.DESKS):
        abort(403)
    # A desk is a boundary: its settings, clients and fields are for the staff who work
    # it (the owner works every desk); to anyone else it does not exist.
    desk_id = (request.view_args or {}).get("desk_id")
    if current_account and desk_id is not None and not works_desk(current_account, desk_id):
        abort(404)


def may_choose_desk_staff() -> bool:
    """Who works a desk decides who reads its tickets: the owner, or staff holding *staff
    and settings*, choose it; anyone else creates a desk they work themselves."""
    return works_every_desk(current_account) or has_permission(perm.STAFF_SETTINGS)


@bp.context_processor
def _labels():
    return {"labels": labels, "choices": labels.choices}


def flash_refusal(exc: DeskRejected) -> None:
    for message in exc.errors.values():
        flash(str(message), "danger")


def attempt(change, done) -> bool:
    """Run ``change()`` (a rule call); commit and flash ``done`` (a message, or a function
    of what the change returned), or roll back and flash why it was refused."""
    try:
        result = change()
    except DeskRejected as exc:
        db.session.rollback()
        flash_refusal(exc)
        return False
    db.session.commit()
    flash(done(result) if callable(done) else done, "success")
    return True


def form_list(name: str) -> list[str]:
    return request.form.getlist(name)

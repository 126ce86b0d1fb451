"""The client's dashboard (``/app/portal``, client users with *portal*): the tickets of
the last 30 days the user sees (``portal.dashboard``)."""

from __future__ import annotations

from flask import render_template

from auth import permissions as perm
from auth.access import current_account, require_permission
from core.timeutil import today_local, utcnow
from portal import dashboard as rules
from portal.views.blueprints import bp


@bp.get("/portal")
@require_permission(perm.PORTAL)
def dashboard():
    data = rules.build(current_account, today_local(), utcnow())
    return render_template("portal/dashboard.html", data=data)

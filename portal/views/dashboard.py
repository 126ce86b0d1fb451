"""The client's dashboard (``/app/portal``, client users with *portal*): the tickets of
the last 30 days the user sees (``portal.dashboard``)."""

from __future__ import annotations

from flask import current_app, render_template

from auth import permissions as perm
from auth.access import current_account, require_permission
from core.timeutil import today_local, utcnow
from portal import dashboard as rules
from portal.views.blueprints import bp

# The client's ticket page, drawn by portal.views.tickets (its plain path until then).
TICKET_PAGE = "portal.ticket_page"


@bp.app_template_global()
def portal_ticket_url(ticket_id: int) -> str:
    """Where a client user opens one of its tickets."""
    if TICKET_PAGE in current_app.view_functions:
        return current_app.url_for(TICKET_PAGE, ticket_id=ticket_id)
    return f"/app/tickets/{ticket_id}"


@bp.get("/portal")
@require_permission(perm.PORTAL)
def dashboard():
    data = rules.build(current_account, today_local(), utcnow())
    return render_template("portal/dashboard.html", data=data)

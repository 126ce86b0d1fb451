"""The client's dashboard (``/app/portal``, client users with *portal*): the tickets of
the last 30 days the user sees (``portal.dashboard``)."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from auth import permissions as perm
from auth.access import current_account, require_permission
from core.timeutil import today_local, utcnow
from portal import dashboard as rules
from portal.views.blueprints import bp

# The client's ticket page (portal.views.tickets, being written): linked once it exists.
TICKET_PAGE = "portal.ticket_page"


@bp.app_template_global()
def portal_ticket_url(ticket_id: int) -> str | None:
    """Where a client user opens one of its tickets (``None`` while there is no page)."""
    if TICKET_PAGE in current_app.view_functions:
        return url_for(TICKET_PAGE, ticket_id=ticket_id)
    return None


@bp.get("/portal")
@require_permission(perm.PORTAL)
def dashboard():
    data = rules.build(current_account, today_local(), utcnow())
    return render_template("portal/dashboard.html", data=data)

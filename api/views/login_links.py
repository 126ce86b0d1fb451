"""The page a "Log in as" link of the API opens (``/reseller/api/login-link/<token>``):
only for the staff member it names, logged in (else the login comes first and brings
them back), who confirms with a click; then the panel's *Log in as* (``api.login_links``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from api import login_links
from api.views.blueprints import panel_bp
from auth import impersonation
from auth import permissions as perm
from auth.access import current_account, require_permission
from core.extensions import db
from core.tenancy import require_reseller


@panel_bp.get("/login-link/<token>")
@require_permission(perm.LOG_IN_AS)
def login_link(token: str):
    found = login_links.pending(token, current_account, require_reseller().id)
    if found is None:
        abort(404)
    user, client, api_client = found
    return render_template(
        "api/login_link.html", user=user, client=client, api_client=api_client, token=token
    )


@panel_bp.post("/login-link/<token>")
@require_permission(perm.LOG_IN_AS)
def login_link_use(token: str):
    try:
        user = login_links.redeem(token, current_account._get_current_object(), require_reseller())
    except impersonation.ImpersonationRefused as refused:
        db.session.rollback()
        if refused.reason != impersonation.INACTIVE:
            abort(403)
        flash(_("This user is deactivated: it cannot be used to log in."), "error")
        return redirect(url_for("reseller.index"))
    if user is None:
        db.session.rollback()
        abort(404)
    db.session.commit()
    return redirect(url_for("tenant.home"))

"""The **Log in as** button of a client user's row (POST, CSRF-protected)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _

from auth import impersonation
from auth import permissions as perm
from auth.access import require_permission
from core.extensions import db
from core.tenancy import require_reseller
from reseller.views.blueprint import bp
from tenant.users import client_user_with_client

REFUSALS = {
    impersonation.INACTIVE: lambda: _("This user is deactivated: it cannot be used to log in."),
}


@bp.post("/clients/<int:client_id>/users/<int:account_id>/login-as")
@require_permission(perm.LOG_IN_AS)
def login_as(client_id: int, account_id: int):
    reseller = require_reseller()
    # The user with its client (of this reseller, not deleted) and its login: one statement.
    user = client_user_with_client(reseller.id, client_id, account_id)
    if user is None:
        abort(404)
    client = user.client
    try:
        impersonation.start(g.current_account, user, reseller.impersonation_minutes)
    except impersonation.ImpersonationRefused as refused:
        if refused.reason not in REFUSALS:
            abort(403)
        flash(REFUSALS[refused.reason](), "error")
        return redirect(url_for("reseller.client_users", client_id=client.id))
    db.session.commit()
    return redirect(url_for("tenant.home"))

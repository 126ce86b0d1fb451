"""The **Log in as** button of a client user's row (POST, CSRF-protected)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, joinedload

from auth import impersonation
from auth import permissions as perm
from auth.access import require_permission
from auth.models import CLIENT_USER, Account
from core.extensions import db
from core.tenancy import require_reseller, scoped_select
from reseller.views.blueprint import bp
from tenant.models import Client

REFUSALS = {
    impersonation.INACTIVE: lambda: _("This user is deactivated: it cannot be used to log in."),
}


@bp.post("/clients/<int:client_id>/users/<int:account_id>/login-as")
@require_permission(perm.LOG_IN_AS)
def login_as(client_id: int, account_id: int):
    reseller = require_reseller()
    # The user with its client (of this reseller, not deleted) and its login (the new
    # session's actor label) in one statement; either missing is a 404.
    user = db.session.scalar(
        scoped_select(Account, client_id=client_id)
        .join(Client, Client.id == Account.client_id)
        .where(Account.id == account_id, Account.kind == CLIENT_USER)
        .where(Client.reseller_id == reseller.id, Client.deleted_at.is_(None))
        .options(contains_eager(Account.client), joinedload(Account.login))
    )
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

"""Ending "log in as"."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _

from auth import impersonation
from auth.access import is_impersonating, page_url
from auth.models import STAFF
from auth.views.blueprints import auth_bp
from core.extensions import db


@auth_bp.post("/impersonation/end")
def end_impersonation():
    """End "log in as": back to the staff member's own session, with a new id."""
    if not is_impersonating():
        abort(400)
    client_id = g.auth_session.account.client_id
    staff = impersonation.end()
    db.session.commit()
    if staff is None:
        flash(_("Your panel session has ended meanwhile. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    flash(_("You are back in the panel."), "success")
    return redirect(page_url(STAFF, "client_users", client_id=client_id))

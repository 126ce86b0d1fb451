"""Ending one's own sessions and trusted browsers."""

from __future__ import annotations

from flask import abort, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from auth import sessions
from auth.access import current_account
from auth.models import Account, AuthSession, TrustedDevice
from auth.views.blueprints import account_bp, own_login_only
from core import audit
from core.extensions import db
from core.tenancy import require_reseller
from core.timeutil import utcnow


@account_bp.post("/sessions/<int:session_id>/revoke")
@own_login_only
def revoke_session(session_id: int):
    """End one session of this login, or one "log in as" of its staff account (with
    the impersonations a staff session carries)."""
    login = current_account.login
    own_accounts = select(Account.id).where(Account.login_id == login.id)
    target = db.session.scalar(
        select(AuthSession).where(
            AuthSession.id == session_id,
            or_(
                # Its own sessions (staff acting as its user are not its own to end)...
                and_(AuthSession.login_id == login.id, AuthSession.impersonator_account_id.is_(None)),
                # ...and the "log in as" its staff account is doing elsewhere.
                AuthSession.impersonator_account_id.in_(own_accounts),
            ),
        )
    )
    if target is None:
        abort(404)
    if target.revoked_at is None:
        now = utcnow()
        sessions.end_sessions(select(AuthSession.id).where(AuthSession.id == target.id), now=now)
        target.revoked_at = now
        audit.record("auth.session_revoked", target, details={"session_id": target.id})
        db.session.commit()
    if target.id == g.auth_session.id:
        session.clear()
        flash(_("This session has ended."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session has ended."), "success")
    return redirect(url_for("account.security"))


@account_bp.post("/sessions/revoke-others")
@own_login_only
def revoke_other_sessions():
    login = current_account.login
    now = utcnow()
    # This login's other sessions, with the "log in as" sessions they carry (staff
    # acting as a user elsewhere); staff acting as this login's user are not its own.
    others = select(AuthSession.id).where(
        AuthSession.login_id == login.id,
        AuthSession.revoked_at.is_(None),
        AuthSession.id != g.auth_session.id,
        AuthSession.impersonator_account_id.is_(None),
    )
    count = sessions.end_sessions(others, now=now)
    login.sessions_revoked_at = now  # and its logins half-way through (code, account choice)
    audit.record("auth.sessions_revoked_others", login, details={"count": count})
    db.session.commit()
    flash(_("Every other session has ended."), "success")
    return redirect(url_for("account.security"))


@account_bp.post("/devices/<int:device_id>/revoke")
@own_login_only
def revoke_device(device_id: int):
    login = current_account.login
    device = db.session.scalar(
        select(TrustedDevice).where(TrustedDevice.id == device_id, TrustedDevice.login_id == login.id)
    )
    if device is None:
        abort(404)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        audit.record("auth.browser_revoked", device)
        db.session.commit()
    if require_reseller().code_on_every_new_browser:
        flash(_("That browser will be asked for a code again."), "success")
    else:
        flash(_("That browser was removed from the list."), "success")
    return redirect(url_for("account.security"))

"""The signed-in person's own login: switching account and the security page."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, session, url_for
from sqlalchemy import select

from auth import devices, identity, impersonation, login_flow, totp
from auth.access import current_account, home_url_for, is_impersonating
from auth.forms import ChangePasswordForm, CodeForm, SwitchAccountForm
from auth.models import AuthSession, TrustedDevice
from auth.views.blueprints import account_bp, own_login_only
from core.extensions import db
from core.tenancy import require_reseller
from core.timeutil import utcnow


@account_bp.post("/switch")
@own_login_only
def switch():
    """Move to another account of the same login, without the password."""
    form = SwitchAccountForm()
    if not form.validate_on_submit():
        abort(400)
    current = current_account
    login = current.login
    target = next((a for a in identity.usable_accounts(login) if a.id == form.account_id.data), None)
    if target is None:
        # Not an account of this login (or no longer usable): as if it did not exist.
        abort(404)
    if target.id == current.id:
        return redirect(home_url_for(current))
    # Bound to this session too: ending it elsewhere ends the switch half-way through.
    pending = login_flow.new_pending(login, account_id=target.id, switch=True, sid=g.auth_session.id)
    if target.is_staff and totp.staff_needs_second_factor(login, require_reseller()):
        session[login_flow.PENDING_KEY] = pending
        return redirect(url_for("auth.second_factor" if login.has_totp else "auth.enrol_second_factor"))
    return login_flow.finish(pending, target)


def _active_sessions(login_id: int) -> list[AuthSession]:
    return db.session.scalars(
        select(AuthSession)
        .where(
            AuthSession.login_id == login_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
            AuthSession.impersonator_account_id.is_(None),
        )
        .order_by(AuthSession.last_seen_at.desc())
    ).all()


def _trusted_devices(login_id: int) -> list[TrustedDevice]:
    return db.session.scalars(
        select(TrustedDevice)
        .where(TrustedDevice.login_id == login_id, TrustedDevice.revoked_at.is_(None))
        .order_by(TrustedDevice.last_used_at.desc())
    ).all()


@account_bp.get("/security")
@own_login_only
def security():
    account = current_account
    login = account.login
    return render_template(
        "auth/security.html",
        sessions=_active_sessions(login.id),
        acting=impersonation.acting_now(login.id),
        impersonations=impersonation.past_impersonations(login.id),
        code_on_every_new_browser=require_reseller().code_on_every_new_browser,
        now=utcnow(),
        devices=_trusted_devices(login.id),
        current_session_id=g.auth_session.id,
        current_device_hash=devices.device_hash(devices.browser_token()),
        password_form=ChangePasswordForm(),
        code_form=CodeForm(),
        login=login,
        staff_2fa_required=any(a.is_staff for a in identity.usable_accounts(login))
        and require_reseller().require_staff_2fa,
        recovery_left=totp.recovery_codes_left(login) if login.has_totp else 0,
        describe_agent=devices.describe_agent,
    )


def switchable_accounts() -> list:
    """The other accounts the current login can switch to (for the avatar menu)."""
    current = current_account
    if not current or g.get("auth_session") is None or is_impersonating():
        return []
    if not g.get("login_has_other_accounts", True):  # known from the session's lookup
        return []
    return [a for a in identity.usable_accounts(current.login) if a.id != current.id]

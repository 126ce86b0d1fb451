"""What a signed-in person manages about their own login (``/account/...``):
switching account, sessions, trusted browsers, password and second factor.

None of it is open to staff acting as a client user: those routes answer 403.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from auth import identity, impersonation, services
from auth.forms import ChangePasswordForm, CodeForm, SwitchAccountForm
from auth.models import Account, AuthSession, TrustedDevice
from auth.views import PENDING_KEY, _finish, new_pending
from core import audit
from core.extensions import db, limiter
from core.tenancy import require_reseller
from core.timeutil import utcnow

bp = Blueprint("account", __name__, url_prefix="/account", template_folder="templates")


def own_login_only(view):
    """Refused while staff act as a client user (the impersonation deny-list)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        current = g.get("auth_session")
        if current is None:
            abort(401)
        if current.impersonator_account_id is not None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.post("/switch")
@own_login_only
def switch():
    """Move to another account of the same login, without the password."""
    form = SwitchAccountForm()
    if not form.validate_on_submit():
        abort(400)
    current = services.current_account
    login = current.login
    target = next((a for a in services.usable_accounts(login) if a.id == form.account_id.data), None)
    if target is None:
        # Not an account of this login (or no longer usable): as if it did not exist.
        abort(404)
    if target.id == current.id:
        return redirect(services.home_url_for(current))
    # Bound to this session too: ending it elsewhere ends the switch half-way through.
    pending = new_pending(login, account_id=target.id, switch=True, sid=g.auth_session.id)
    if target.is_staff and identity.staff_needs_second_factor(login, require_reseller()):
        session[PENDING_KEY] = pending
        return redirect(url_for("auth.second_factor" if login.has_totp else "auth.enrol_second_factor"))
    return _finish(pending, target)


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


@bp.get("/security")
@own_login_only
def security():
    account = services.current_account
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
        current_device_hash=identity.device_hash(identity.browser_token()),
        password_form=ChangePasswordForm(),
        code_form=CodeForm(),
        login=login,
        staff_2fa_required=any(a.is_staff for a in services.usable_accounts(login))
        and require_reseller().require_staff_2fa,
        recovery_left=identity.recovery_codes_left(login) if login.has_totp else 0,
        describe_agent=identity.describe_agent,
    )


@bp.post("/sessions/<int:session_id>/revoke")
@own_login_only
def revoke_session(session_id: int):
    """End one session of this login, or one "log in as" of its staff account (with
    the impersonations a staff session carries)."""
    login = services.current_account.login
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
        services.end_sessions(select(AuthSession.id).where(AuthSession.id == target.id), now=now)
        target.revoked_at = now
        audit.record("auth.session_revoked", target, details={"session_id": target.id})
        db.session.commit()
    if target.id == g.auth_session.id:
        session.clear()
        flash(_("This session has ended."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session has ended."), "success")
    return redirect(url_for("account.security"))


@bp.post("/sessions/revoke-others")
@own_login_only
def revoke_other_sessions():
    login = services.current_account.login
    now = utcnow()
    # This login's other sessions, with the "log in as" sessions they carry (staff
    # acting as a user elsewhere); staff acting as this login's user are not its own.
    others = select(AuthSession.id).where(
        AuthSession.login_id == login.id,
        AuthSession.revoked_at.is_(None),
        AuthSession.id != g.auth_session.id,
        AuthSession.impersonator_account_id.is_(None),
    )
    count = services.end_sessions(others, now=now)
    login.sessions_revoked_at = now  # and its logins half-way through (code, account choice)
    audit.record("auth.sessions_revoked_others", login, details={"count": count})
    db.session.commit()
    flash(_("Every other session has ended."), "success")
    return redirect(url_for("account.security"))


@bp.post("/devices/<int:device_id>/revoke")
@own_login_only
def revoke_device(device_id: int):
    login = services.current_account.login
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


@bp.post("/password")
@own_login_only
@limiter.limit("10 per hour")
def change_password():
    account = g.current_account  # the object itself: the proxy empties when the session ends
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        flash(_("Fill in every password field."), "error")
        return redirect(url_for("account.security"))
    if form.password.data != form.confirm.data:
        flash(_("The passwords do not match."), "error")
        return redirect(url_for("account.security"))
    try:
        changed = services.change_password(account, form.current.data, form.password.data)
    except services.PasswordRejected as exc:
        flash(str(exc), "error")
        return redirect(url_for("account.security"))
    if not changed:
        db.session.commit()
        flash(_("The current password is incorrect."), "error")
        return redirect(url_for("account.security"))
    # Every session of the login ended; this browser continues in a new one.
    services.start_session(account)
    db.session.commit()
    flash(_("Password changed. Your other sessions have ended."), "success")
    return redirect(url_for("account.security"))


@bp.route("/2fa/setup", methods=["GET", "POST"])
@own_login_only
@limiter.limit("10 per minute", methods=["POST"])
def setup_second_factor():
    login = services.current_account.login
    if login.has_totp:
        return redirect(url_for("account.security"))
    enrolment = identity.start_enrolment(login, require_reseller().name)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = identity.confirm_enrolment(login, form.code.data)
        if codes:
            db.session.commit()
            return render_template(
                "auth/recovery_codes.html", codes=codes, continue_url=url_for("account.security")
            )
        db.session.commit()
        form.code.errors = [_("The code is incorrect. Check the time on your phone and try again.")]
        status = 422
    return render_template("auth/enrol.html", form=form, enrolment=enrolment, during_login=False), status


def _confirmed_by_code(login) -> bool:
    form = CodeForm()
    if form.validate_on_submit() and identity.second_factor(login, form.code.data):
        return True
    audit.record("auth.2fa_failed", login)
    db.session.commit()
    flash(_("The code is incorrect or was already used."), "error")
    return False


@bp.post("/2fa/disable")
@own_login_only
@limiter.limit("10 per minute")
def disable_second_factor():
    login = services.current_account.login
    reseller = require_reseller()
    if not login.has_totp:
        return redirect(url_for("account.security"))
    if reseller.require_staff_2fa and any(a.is_staff for a in services.usable_accounts(login)):
        flash(_("Your reseller requires two-step verification for staff: it cannot be turned off."), "error")
        return redirect(url_for("account.security"))
    if not _confirmed_by_code(login):
        return redirect(url_for("account.security"))
    identity.disable_totp(login)
    db.session.commit()
    flash(_("Two-step verification is off."), "success")
    return redirect(url_for("account.security"))


@bp.post("/2fa/recovery-codes")
@own_login_only
@limiter.limit("10 per minute")
def regenerate_recovery_codes():
    login = services.current_account.login
    if not login.has_totp:
        return redirect(url_for("account.security"))
    if not _confirmed_by_code(login):
        return redirect(url_for("account.security"))
    codes = identity.new_recovery_codes(login)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, continue_url=url_for("account.security"))


def switchable_accounts() -> list:
    """The other accounts the current login can switch to (for the avatar menu)."""
    current = services.current_account
    current_session = g.get("auth_session")
    if not current or current_session is None or current_session.impersonator_account_id is not None:
        return []
    return [a for a in services.usable_accounts(current.login) if a.id != current.id]


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["switchable_accounts"] = switchable_accounts

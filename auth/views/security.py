"""Changing one's password and managing one's second factor."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import identity, passwords, sessions, totp
from auth.access import current_account
from auth.forms import ChangePasswordForm, CodeForm
from auth.views.blueprints import account_bp, own_login_only
from core import audit
from core.extensions import db, limiter
from core.tenancy import require_reseller


@account_bp.post("/password")
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
        changed = passwords.change_password(account, form.current.data, form.password.data)
    except passwords.PasswordRejected as exc:
        flash(str(exc), "error")
        return redirect(url_for("account.security"))
    if not changed:
        db.session.commit()
        flash(_("The current password is incorrect."), "error")
        return redirect(url_for("account.security"))
    # Every session of the login ended; this browser continues in a new one.
    sessions.start_session(account)
    db.session.commit()
    flash(_("Password changed. Your other sessions have ended."), "success")
    return redirect(url_for("account.security"))


@account_bp.route("/2fa/setup", methods=["GET", "POST"])
@own_login_only
@limiter.limit("10 per minute", methods=["POST"])
def setup_second_factor():
    login = current_account.login
    if login.has_totp:
        return redirect(url_for("account.security"))
    enrolment = totp.start_enrolment(login, require_reseller().name)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = totp.confirm_enrolment(login, form.code.data)
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
    if form.validate_on_submit() and totp.second_factor(login, form.code.data):
        return True
    audit.record("auth.2fa_failed", login)
    db.session.commit()
    flash(_("The code is incorrect or was already used."), "error")
    return False


@account_bp.post("/2fa/disable")
@own_login_only
@limiter.limit("10 per minute")
def disable_second_factor():
    login = current_account.login
    reseller = require_reseller()
    if not login.has_totp:
        return redirect(url_for("account.security"))
    if reseller.require_staff_2fa and any(a.is_staff for a in identity.usable_accounts(login)):
        flash(_("Your reseller requires two-step verification for staff: it cannot be turned off."), "error")
        return redirect(url_for("account.security"))
    if not _confirmed_by_code(login):
        return redirect(url_for("account.security"))
    totp.disable_totp(login)
    db.session.commit()
    flash(_("Two-step verification is off."), "success")
    return redirect(url_for("account.security"))


@account_bp.post("/2fa/recovery-codes")
@own_login_only
@limiter.limit("10 per minute")
def regenerate_recovery_codes():
    login = current_account.login
    if not login.has_totp:
        return redirect(url_for("account.security"))
    if not _confirmed_by_code(login):
        return redirect(url_for("account.security"))
    codes = totp.new_recovery_codes(login)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes, continue_url=url_for("account.security"))

"""Forgotten password and the invitation / reset link."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import identity, passwords, sessions
from auth.access import public
from auth.forms import ForgotPasswordForm, SetPasswordForm
from auth.states import LinkPurpose
from auth.views.blueprints import auth_bp, login_key
from core import audit
from core.extensions import db, limiter
from core.tenancy import host_is_resellers, require_reseller


@auth_bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=login_key)
def forgot_password():
    reseller = require_reseller()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        login = identity.find_login(reseller.id, form.email.data)
        # A host that is not this reseller's own (the default reseller answering for
        # it) sends nothing, with the same answer: the link would be fine, but such a
        # request is somebody probing.
        if login is not None and identity.usable_accounts(login) and host_is_resellers():
            passwords.send_password_link(login, purpose=LinkPurpose.RESET)
        audit.record(
            "auth.password_reset_requested",
            login,
            reseller_id=reseller.id,
            actor_label=identity.normalise_email(form.email.data),
        )
        db.session.commit()
        # The same answer whether or not the e-mail has a login here.
        flash(
            _(
                "If %(email)s has an account here, a link to choose a new password is on its way. "
                "It works once, within 1 hour.",
                email=identity.normalise_email(form.email.data),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@auth_bp.route("/password/set/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def set_password(token: str):
    """The invitation / reset link: choose a password, then log in."""
    reseller = require_reseller()
    login = passwords.login_from_password_token(token, reseller.id)
    if login is None:
        flash(_("This link is invalid, was already used or has expired."), "error")
        return redirect(url_for("auth.login"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors = [_("The passwords do not match.")]
        else:
            try:
                passwords.set_password(login, form.password.data, proves_email=True)
            except passwords.PasswordRejected as exc:
                form.password.errors = [str(exc)]
            else:
                if g.get("auth_session") is not None:
                    sessions.end_current_session(audit_it=False)
                db.session.commit()
                flash(_("Password saved. You can log in now."), "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, email=login.email)

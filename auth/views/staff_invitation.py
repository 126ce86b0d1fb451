"""The e-mailed staff invitation: accept it (choosing the password when the login has
none), then log in as usual. Public: the link proves the mailbox."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from auth import passwords, sessions, staff, staff_invitations
from auth.access import public
from auth.forms import SetPasswordForm
from auth.views.blueprints import auth_bp
from core.extensions import db, limiter
from core.tenancy import require_reseller


@auth_bp.route("/staff-invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def staff_invitation(token: str):
    reseller = require_reseller()
    invitation = staff_invitations.invitation_from_token(token, reseller.id)
    if invitation is None:
        return render_template("auth/staff_invitation.html", invitation=None, form=None), 404
    login = invitation.account.login
    needs_password = not login.password_hash
    form = SetPasswordForm() if needs_password else FlaskForm()
    if form.validate_on_submit():
        if needs_password and form.password.data != form.confirm.data:
            form.confirm.errors = [_("The passwords do not match.")]
        else:
            try:
                staff_invitations.accept(invitation, form.password.data if needs_password else None)
            except passwords.PasswordRejected as exc:
                form.password.errors = [str(exc)]
            except staff.StaffRejected:
                db.session.rollback()
                return render_template("auth/staff_invitation.html", invitation=None, form=None), 404
            else:
                if g.get("auth_session") is not None:
                    sessions.end_current_session(audit_it=False)
                db.session.commit()
                flash(_("Welcome to the %(name)s team. Log in to start.", name=reseller.name), "success")
                return redirect(url_for("auth.login"))
    return render_template(
        "auth/staff_invitation.html",
        invitation=invitation,
        form=form,
        needs_password=needs_password,
        email=login.email,
        reseller=reseller,
    )

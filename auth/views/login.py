"""The login page, refusing a login, and logging out."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import update

from auth import challenges, codes, identity, impersonation, login_flow, passwords, sessions
from auth.access import current_account, home_url_for, is_impersonating, public
from auth.forms import LoginForm
from auth.models import Login
from auth.states import LinkPurpose, LoginRefusal
from auth.views.blueprints import auth_bp, failed, login_key
from core import audit
from core.extensions import db, limiter
from core.redirects import safe_local_target
from core.tenancy import require_reseller

# Consecutive wrong passwords after which a login only opens with a reset link.
LOCK_AFTER_FAILURES = 100


@auth_bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=login_key, deduct_when=failed)
def login():
    reseller = require_reseller()
    if current_account:
        return redirect(home_url_for(current_account))
    form = LoginForm(next=safe_local_target(request.args.get("next")) or "")
    if form.validate_on_submit():
        email = identity.normalise_email(form.email.data)
        found = passwords.verify_login(reseller.id, email, form.password.data)
        reason = LoginRefusal.WRONG_PASSWORD if found is None else LoginRefusal.NO_ACCOUNT
        if found is not None and found.failed_logins >= LOCK_AFTER_FAILURES:
            found, reason = None, LoginRefusal.LOCKED
        accounts = identity.usable_accounts(found) if found else []
        if not accounts:
            return _refuse_login(reseller, email, form, reason)
        found.failed_logins = 0
        session.pop(login_flow.PENDING_KEY, None)
        pending = login_flow.new_pending(found, next=safe_local_target(form.next.data))
        if identity.needs_code(found, reseller):
            try:
                challenge = challenges.start_challenge(found)
            except codes.CodeRefused as refused:
                db.session.commit()
                flash(login_flow.code_message(refused), "error")
                return render_template("auth/login.html", form=form), 429
            pending["challenge"] = challenge.id
        db.session.commit()
        session[login_flow.PENDING_KEY] = pending
        return login_flow.advance(pending)
    return render_template("auth/login.html", form=form)


def _refuse_login(reseller, email: str, form, reason: LoginRefusal):
    """The same answer whether the e-mail is unknown, the password wrong or the login
    locked; the audit log tells them apart."""
    g.login_failed = True
    login = identity.find_login(reseller.id, email)
    if login is None:
        reason = LoginRefusal.UNKNOWN_LOGIN
    elif login.failed_logins >= LOCK_AFTER_FAILURES:
        reason = LoginRefusal.LOCKED
    if login is not None:
        db.session.execute(
            update(Login)
            .where(Login.id == login.id)
            .values(failed_logins=Login.failed_logins + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(login)
        if login.failed_logins == LOCK_AFTER_FAILURES:
            # Whatever host the 100th failure named: the owner must hear of the lock, and
            # the link is on the reseller's canonical URL anyway.
            passwords.send_password_link(login, purpose=LinkPurpose.LOCKED)
    audit.record(
        "auth.login_failed",
        login,
        details={"email": email, "reason": reason},
        reseller_id=reseller.id,
        actor_label=email,
    )
    db.session.commit()
    flash(_("E-mail or password is incorrect."), "error")
    return render_template("auth/login.html", form=form), 200


@auth_bp.post("/logout")
@public
def logout():
    current = g.get("auth_session")
    if is_impersonating():
        # Acting as a user: the staff session waiting beneath ends too, on the server
        # (a copy of the cookie must not reopen the panel).
        impersonation.end_with_staff(reason="logged_out")
        db.session.commit()
    elif current is not None:
        sessions.end_current_session()
        db.session.commit()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.get("/logout", endpoint="logout_page")
@public
def logout_page():
    # GET never changes state: it only offers the button.
    return render_template("auth/logout.html")

"""Logging in: password, first-login code, account choice, staff second factor.

Between the password and the session the browser carries a *pending login* in the
signed Flask session cookie (login id, the code challenge's id, the chosen account
and which steps are done); every step re-reads the login and its accounts from the
database, and the pending state expires after ten minutes.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select, update

from auth import identity, impersonation, services
from auth.forms import ChooseAccountForm, CodeForm, ForgotPasswordForm, LoginForm, SetPasswordForm
from auth.models import Account, Login, LoginChallenge
from core import audit
from core.extensions import db, limiter
from core.redirects import safe_local_target
from core.tenancy import host_is_resellers, require_reseller
from core.timeutil import utcnow

bp = Blueprint("auth", __name__, template_folder="templates")

PENDING_KEY = "pending_login"
PENDING_TTL_SECONDS = 600
# Consecutive wrong passwords after which a login only opens with a reset link.
LOCK_AFTER_FAILURES = 100


def _safe_next(target: str | None) -> str | None:
    """Where to go after logging in: a path on this site, else None (core.redirects)."""
    return safe_local_target(target)


def _login_key() -> str:
    """Flask-Limiter key for per-account throttling: reseller + e-mail as typed."""
    email = services.normalise_email(request.form.get("email", ""))[:254]
    reseller = g.get("reseller")
    return f"login:{reseller.id if reseller else '-'}:{email}"


def _failed(response) -> bool:
    return bool(g.get("login_failed"))


def _pending_login_key() -> str:
    """Flask-Limiter key for second-factor tries: the login being signed in."""
    pending = session.get(PENDING_KEY) or {}
    return f"2fa:{pending.get('login_id', '-')}"


@bp.route("/login", methods=["GET", "POST"])
@services.public
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_login_key, deduct_when=_failed)
def login():
    reseller = require_reseller()
    if services.current_account:
        return redirect(services.home_url_for(services.current_account))
    form = LoginForm(next=_safe_next(request.args.get("next")) or "")
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        found = services.verify_login(reseller.id, email, form.password.data)
        if found is not None and found.failed_logins >= LOCK_AFTER_FAILURES:
            found = None
        accounts = services.usable_accounts(found) if found else []
        if not accounts:
            return _refuse_login(reseller, email, form)
        found.failed_logins = 0
        session.pop(PENDING_KEY, None)
        pending = new_pending(found, next=_safe_next(form.next.data))
        if identity.needs_code(found, reseller):
            try:
                challenge = identity.start_challenge(found)
            except identity.CodeRefused as refused:
                db.session.commit()
                flash(_code_message(refused), "error")
                return render_template("auth/login.html", form=form), 429
            pending["challenge"] = challenge.id
        db.session.commit()
        session[PENDING_KEY] = pending
        return _advance(pending)
    return render_template("auth/login.html", form=form)


def _refuse_login(reseller, email: str, form):
    """The same answer whether the e-mail is unknown, the password wrong or the login locked."""
    g.login_failed = True
    login = services.find_login(reseller.id, email)
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
            services.send_password_link(login, purpose="locked")
    audit.record(
        "auth.login_failed",
        login,
        details={"email": email},
        reseller_id=reseller.id,
        actor_label=email,
    )
    db.session.commit()
    flash(_("E-mail or password is incorrect."), "error")
    return render_template("auth/login.html", form=form), 200


def new_pending(login: Login, **values) -> dict:
    """The pending state of a login whose password (or session, when switching) was
    just checked: bound to that password and to the moment it was checked."""
    return {"login_id": login.id, "at": utcnow().timestamp(), "pw": _password_binding(login), **values}


def _password_binding(login: Login) -> str:
    return identity.keyed_digest("pending-login", str(login.id), login.password_hash or "")[:32]


def _pending() -> tuple[dict, Login] | None:
    """The pending login of this browser, if still valid: not expired, and neither the
    password changed nor every session of the login ended since it was checked."""
    reseller = require_reseller()
    pending = session.get(PENDING_KEY)
    if not pending or utcnow().timestamp() - pending.get("at", 0) > PENDING_TTL_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    login = db.session.scalar(
        select(Login).where(Login.id == pending["login_id"], Login.reseller_id == reseller.id)
    )
    revoked_at = login.sessions_revoked_at if login is not None else None
    current = g.get("auth_session")
    if (
        login is None
        or pending.get("pw") != _password_binding(login)
        or (revoked_at is not None and revoked_at.timestamp() >= pending["at"])
        # A switch goes on from a session: it must still be this browser's, and open.
        or (pending.get("switch") and (current is None or current.id != pending.get("sid")))
    ):
        session.pop(PENDING_KEY, None)
        return None
    return pending, login


def _expired_redirect():
    flash(_("Your login attempt expired. Please log in again."), "warning")
    return redirect(url_for("auth.login"))


def _save(pending: dict) -> None:
    session[PENDING_KEY] = pending
    session.modified = True


def _advance(pending: dict):
    """Send the browser to the next step, or open the session when none is left."""
    reseller = require_reseller()
    login = db.session.get(Login, pending["login_id"])
    if pending.get("challenge") and not pending.get("code_ok"):
        return redirect(url_for("auth.code"))
    accounts = services.usable_accounts(login)
    account = next((a for a in accounts if a.id == pending.get("account_id")), None)
    if account is None:
        if pending.get("account_id") is not None or not accounts:
            session.pop(PENDING_KEY, None)
            return _expired_redirect()
        if len(accounts) > 1:
            return redirect(url_for("auth.choose_account"))
        account = accounts[0]
        pending["account_id"] = account.id
        _save(pending)
    if account.is_staff and identity.staff_needs_second_factor(login, reseller) and not pending.get("mfa_ok"):
        return redirect(url_for("auth.second_factor" if login.has_totp else "auth.enrol_second_factor"))
    return _finish(pending, account)


def _finish(pending: dict, account: Account, recovery_codes: list[str] | None = None):
    switching = bool(pending.get("switch"))
    previous = g.get("current_account")
    services.start_session(account)
    if switching:
        audit.record("auth.switch", account, details={"from_account_id": previous.id if previous else None})
    else:
        audit.record("auth.login", account)
    db.session.commit()
    # Checked again: a pending login started before this rule may carry any target.
    nxt = _safe_next(pending.get("next"))
    target = services.home_url_for(account)
    if nxt and (nxt.startswith("/reseller") == account.is_staff):
        target = nxt
    if recovery_codes:
        return render_template("auth/recovery_codes.html", codes=recovery_codes, continue_url=target)
    return redirect(target)


def _code_message(refused: identity.CodeRefused) -> str:
    return {
        identity.WRONG: _("The code is incorrect. Check the e-mail and try again."),
        identity.EXPIRED: _("This code has expired. Ask for a new one."),
        identity.USED: _("This code was already used. Log in again to get a new one."),
        identity.TOO_MANY_TRIES: _("Too many wrong tries. Log in again to get a new code."),
        identity.TOO_SOON: _("Wait %(n)d seconds before asking for another code.", n=refused.wait_seconds),
        identity.TOO_MANY_SENDS: _("Too many codes were sent. Wait a while and log in again."),
    }[refused.reason]


@bp.route("/login/code", methods=["GET", "POST"])
@services.public
@limiter.limit("30 per minute", methods=["POST"])
def code():
    state = _pending()
    if state is None or not state[0].get("challenge"):
        return _expired_redirect()
    pending, login = state
    if pending.get("code_ok"):
        return _advance(pending)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            identity.verify_code(pending["challenge"], login.id, form.code.data)
        except identity.CodeRefused as refused:
            audit.record(
                "auth.code_failed",
                login,
                details={"reason": refused.reason},
                reseller_id=login.reseller_id,
                actor_label=login.email,
            )
            db.session.commit()
            form.code.errors = [_code_message(refused)]
            status = 422
        else:
            if login.verified_at is None:
                login.verified_at = utcnow()
            token = identity.trust_browser(login, identity.browser_token())
            audit.record("auth.code_accepted", login, reseller_id=login.reseller_id, actor_label=login.email)
            db.session.commit()
            pending["code_ok"] = True
            _save(pending)
            return identity.set_browser_cookie(make_response(_advance(pending)), token)
    challenge = db.session.get(LoginChallenge, pending["challenge"])
    return render_template("auth/code.html", form=form, email=login.email, challenge=challenge), status


@bp.post("/login/code/resend")
@services.public
@limiter.limit("10 per minute")
def resend_code():
    state = _pending()
    if state is None or not state[0].get("challenge"):
        return _expired_redirect()
    pending, login = state
    challenge = db.session.get(LoginChallenge, pending["challenge"])
    if challenge is None or challenge.login_id != login.id:
        return _expired_redirect()
    try:
        identity.resend_code(challenge)
    except identity.CodeRefused as refused:
        flash(_code_message(refused), "error")
    else:
        flash(_("We sent a new code to %(email)s.", email=login.email), "success")
    db.session.commit()
    return redirect(url_for("auth.code"))


@bp.route("/login/account", methods=["GET", "POST"])
@services.public
def choose_account():
    state = _pending()
    if state is None:
        return _expired_redirect()
    pending, login = state
    if pending.get("challenge") and not pending.get("code_ok"):
        return redirect(url_for("auth.code"))
    accounts = services.usable_accounts(login)
    form = ChooseAccountForm()
    if form.validate_on_submit():
        chosen = next((a for a in accounts if a.id == form.account_id.data), None)
        if chosen is None:
            abort(404)
        pending["account_id"] = chosen.id
        _save(pending)
        return _advance(pending)
    return render_template("auth/choose_account.html", accounts=accounts, form=form)


def _pending_staff_account(pending: dict, login: Login) -> Account | None:
    account = next((a for a in services.usable_accounts(login) if a.id == pending.get("account_id")), None)
    return account if account is not None and account.is_staff else None


@bp.route("/login/2fa", methods=["GET", "POST"])
@services.public
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_pending_login_key, deduct_when=_failed)
def second_factor():
    state = _pending()
    if state is None:
        return _expired_redirect()
    pending, login = state
    account = _pending_staff_account(pending, login)
    if account is None or (pending.get("challenge") and not pending.get("code_ok")):
        return _advance(pending) if account is not None else _expired_redirect()
    if not login.has_totp:
        return redirect(url_for("auth.enrol_second_factor"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if identity.second_factor(login, form.code.data):
            pending["mfa_ok"] = True
            _save(pending)
            audit.record("auth.2fa_passed", account)
            return _advance(pending)
        g.login_failed = True
        audit.record("auth.2fa_failed", account, actor_label=login.email)
        db.session.commit()
        form.code.errors = [_("The code is incorrect or was already used.")]
        status = 422
    return render_template("auth/second_factor.html", form=form, switching=pending.get("switch")), status


@bp.route("/login/2fa/setup", methods=["GET", "POST"])
@services.public
@limiter.limit("10 per minute", methods=["POST"])
def enrol_second_factor():
    """Enrolment demanded by the reseller before a staff account opens."""
    state = _pending()
    if state is None:
        return _expired_redirect()
    pending, login = state
    account = _pending_staff_account(pending, login)
    if account is None or (pending.get("challenge") and not pending.get("code_ok")):
        return _advance(pending) if account is not None else _expired_redirect()
    if login.has_totp:
        return redirect(url_for("auth.second_factor"))
    reseller = require_reseller()
    enrolment = identity.start_enrolment(login, reseller.name)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = identity.confirm_enrolment(login, form.code.data)
        if codes:
            pending["mfa_ok"] = True
            return _finish(pending, account, recovery_codes=codes)
        db.session.commit()
        form.code.errors = [_("The code is incorrect. Check the time on your phone and try again.")]
        status = 422
    return render_template("auth/enrol.html", form=form, enrolment=enrolment, during_login=True), status


@bp.post("/logout")
@services.public
def logout():
    current = g.get("auth_session")
    if current is not None and current.impersonator_account_id is not None:
        # Acting as a user: the staff session waiting beneath ends too, on the server
        # (a copy of the cookie must not reopen the panel).
        impersonation.end_with_staff(reason="logged_out")
        db.session.commit()
    elif current is not None:
        services.end_current_session()
        db.session.commit()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/logout", endpoint="logout_page")
@services.public
def logout_page():
    # GET never changes state: it only offers the button.
    return render_template("auth/logout.html")


@bp.route("/password/forgot", methods=["GET", "POST"])
@services.public
@limiter.limit("5 per minute", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=_login_key)
def forgot_password():
    reseller = require_reseller()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        login = services.find_login(reseller.id, form.email.data)
        # A host that is not this reseller's own (the default reseller answering for
        # it) sends nothing, with the same answer: the link would be fine, but such a
        # request is somebody probing.
        if login is not None and services.usable_accounts(login) and host_is_resellers():
            services.send_password_link(login, purpose="reset")
        audit.record(
            "auth.password_reset_requested",
            login,
            reseller_id=reseller.id,
            actor_label=services.normalise_email(form.email.data),
        )
        db.session.commit()
        # The same answer whether or not the e-mail has a login here.
        flash(
            _(
                "If %(email)s has an account here, a link to choose a new password is on its way. "
                "It works once, within 1 hour.",
                email=services.normalise_email(form.email.data),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/set/<token>", methods=["GET", "POST"])
@services.public
@limiter.limit("20 per minute", methods=["POST"])
def set_password(token: str):
    """The invitation / reset link: choose a password, then log in."""
    reseller = require_reseller()
    login = services.login_from_password_token(token, reseller.id)
    if login is None:
        flash(_("This link is invalid, was already used or has expired."), "error")
        return redirect(url_for("auth.login"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors = [_("The passwords do not match.")]
        else:
            try:
                services.set_password(login, form.password.data, proves_email=True)
            except services.PasswordRejected as exc:
                form.password.errors = [str(exc)]
            else:
                if g.get("auth_session") is not None:
                    services.end_current_session(audit_it=False)
                db.session.commit()
                flash(_("Password saved. You can log in now."), "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, email=login.email)


@bp.post("/impersonation/end")
def end_impersonation():
    """End "log in as": back to the staff member's own session, with a new id."""
    current = g.get("auth_session")
    if current is None or current.impersonator_account_id is None:
        abort(400)
    client_id = current.account.client_id
    staff = impersonation.end()
    db.session.commit()
    if staff is None:
        flash(_("Your panel session has ended meanwhile. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    flash(_("You are back in the panel."), "success")
    return redirect(f"/reseller/clients/{client_id}/users")

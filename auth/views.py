"""Login, account choice and logout."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from auth import services
from auth.forms import ChooseAccountForm, LoginForm
from auth.models import Account
from core import audit
from core.extensions import db, limiter
from core.tenancy import require_reseller
from core.timeutil import utcnow

bp = Blueprint("auth", __name__, template_folder="templates")

PENDING_KEY = "pending_login"
PENDING_TTL_SECONDS = 600


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@services.public
@limiter.limit("20 per minute", methods=["POST"])
def login():
    reseller = require_reseller()
    if services.current_account:
        return redirect(services.home_url_for(services.current_account))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        found = services.verify_login(reseller.id, form.email.data, form.password.data)
        accounts = services.usable_accounts(found) if found else []
        if not accounts:
            audit.record(
                "auth.login_failed",
                details={"email": services.normalise_email(form.email.data)},
                reseller_id=reseller.id,
                actor_label=services.normalise_email(form.email.data),
            )
            db.session.commit()
            flash(_("E-mail or password is incorrect."), "error")
            return render_template("auth/login.html", form=form), 200
        nxt = _safe_next(form.next.data)
        if len(accounts) == 1:
            return _finish_login(accounts[0], nxt)
        session.clear()
        session[PENDING_KEY] = {"login_id": found.id, "at": utcnow().timestamp(), "next": nxt}
        return redirect(url_for("auth.choose_account"))
    return render_template("auth/login.html", form=form)


def _finish_login(account: Account, nxt: str | None):
    services.start_session(account)
    audit.record("auth.login", account)
    db.session.commit()
    if nxt and (nxt.startswith("/reseller") == account.is_staff):
        return redirect(nxt)
    return redirect(services.home_url_for(account))


@bp.route("/login/account", methods=["GET", "POST"])
@services.public
def choose_account():
    reseller = require_reseller()
    pending = session.get(PENDING_KEY)
    if not pending or utcnow().timestamp() - pending["at"] > PENDING_TTL_SECONDS:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("auth.login"))
    from auth.models import Login

    login = db.session.scalar(
        select(Login).where(Login.id == pending["login_id"], Login.reseller_id == reseller.id)
    )
    if login is None:
        abort(404)
    accounts = services.usable_accounts(login)
    form = ChooseAccountForm()
    if form.validate_on_submit():
        chosen = next((a for a in accounts if a.id == form.account_id.data), None)
        if chosen is None:
            abort(404)
        return _finish_login(chosen, pending.get("next"))
    return render_template("auth/choose_account.html", accounts=accounts, form=form)


@bp.post("/logout")
@services.public
def logout():
    if g.get("auth_session") is not None:
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


@bp.route("/password/set/<token>", methods=["GET", "POST"])
@services.public
@limiter.limit("20 per minute", methods=["POST"])
def set_password(token: str):
    """The invitation / reset link: choose a password, then log in."""
    from auth.forms import SetPasswordForm

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
                services.set_password(login, form.password.data)
            except services.PasswordRejected as exc:
                form.password.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("Password saved. You can log in now."), "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, email=login.email)

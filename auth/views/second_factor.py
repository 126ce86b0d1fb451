"""The staff second factor during login: the TOTP page and the enrolment the
reseller demands."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import identity, login_flow, totp
from auth.access import public
from auth.forms import ChooseAccountForm, CodeForm
from auth.views.blueprints import auth_bp, failed, pending_login_key
from core import audit
from core.extensions import db, limiter
from core.tenancy import require_reseller


@auth_bp.route("/login/account", methods=["GET", "POST"])
@public
def choose_account():
    state = login_flow.pending_login()
    if state is None:
        return login_flow.expired_redirect()
    pending, login = state
    if pending.get("challenge") and not pending.get("code_ok"):
        return redirect(url_for("auth.code"))
    accounts = identity.usable_accounts(login)
    form = ChooseAccountForm()
    if form.validate_on_submit():
        chosen = next((a for a in accounts if a.id == form.account_id.data), None)
        if chosen is None:
            abort(404)
        pending["account_id"] = chosen.id
        login_flow.save(pending)
        return login_flow.advance(pending)
    return render_template("auth/choose_account.html", accounts=accounts, form=form)


def _pending_staff():
    """The pending login of a staff account at its second factor, as
    ``(pending, login, account, None)``; else the response that sends the browser on
    (or back to the login page) as the last item."""
    state = login_flow.pending_login()
    if state is None:
        return None, None, None, login_flow.expired_redirect()
    pending, login = state
    account = next((a for a in identity.usable_accounts(login) if a.id == pending.get("account_id")), None)
    if account is None or not account.is_staff:
        return None, None, None, login_flow.expired_redirect()
    if pending.get("challenge") and not pending.get("code_ok"):
        return None, None, None, login_flow.advance(pending)
    return pending, login, account, None


@auth_bp.route("/login/2fa", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=pending_login_key, deduct_when=failed)
def second_factor():
    pending, login, account, elsewhere = _pending_staff()
    if elsewhere is not None:
        return elsewhere
    if not login.has_totp:
        return redirect(url_for("auth.enrol_second_factor"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if totp.second_factor(login, form.code.data):
            pending["mfa_ok"] = True
            login_flow.save(pending)
            audit.record("auth.2fa_passed", account)
            return login_flow.advance(pending)
        g.login_failed = True
        audit.record("auth.2fa_failed", account, actor_label=login.email)
        db.session.commit()
        form.code.errors = [_("The code is incorrect or was already used.")]
        status = 422
    return render_template("auth/second_factor.html", form=form, switching=pending.get("switch")), status


@auth_bp.route("/login/2fa/setup", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def enrol_second_factor():
    """Enrolment demanded by the reseller before a staff account opens."""
    pending, login, account, elsewhere = _pending_staff()
    if elsewhere is not None:
        return elsewhere
    if login.has_totp:
        return redirect(url_for("auth.second_factor"))
    reseller = require_reseller()
    enrolment = totp.start_enrolment(login, reseller.name)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        codes = totp.confirm_enrolment(login, form.code.data)
        if codes:
            pending["mfa_ok"] = True
            return login_flow.finish(pending, account, recovery_codes=codes)
        db.session.commit()
        form.code.errors = [_("The code is incorrect. Check the time on your phone and try again.")]
        status = 422
    return render_template("auth/enrol.html", form=form, enrolment=enrolment, during_login=True), status

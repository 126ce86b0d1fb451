"""The first-login code page and its resend."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from auth import challenges, codes, devices, login_flow
from auth.access import public
from auth.forms import CodeForm
from auth.models import LoginChallenge
from auth.views.blueprints import auth_bp
from core import audit
from core.extensions import db, limiter
from core.timeutil import utcnow


@auth_bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def code():
    state = login_flow.pending_login()
    if state is None or not state[0].get("challenge"):
        return login_flow.expired_redirect()
    pending, login = state
    if pending.get("code_ok"):
        return login_flow.advance(pending)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            challenges.verify_code(pending["challenge"], login.id, form.code.data)
        except codes.CodeRefused as refused:
            audit.record(
                "auth.code_failed",
                login,
                details={"reason": refused.reason},
                reseller_id=login.reseller_id,
                actor_label=login.email,
            )
            db.session.commit()
            form.code.errors = [login_flow.code_message(refused)]
            status = 422
        else:
            if login.verified_at is None:
                login.verified_at = utcnow()
            token = devices.trust_browser(login, devices.browser_token())
            audit.record("auth.code_accepted", login, reseller_id=login.reseller_id, actor_label=login.email)
            db.session.commit()
            pending["code_ok"] = True
            login_flow.save(pending)
            return devices.set_browser_cookie(make_response(login_flow.advance(pending)), token)
    challenge = db.session.get(LoginChallenge, pending["challenge"])
    return render_template("auth/code.html", form=form, email=login.email, challenge=challenge), status


@auth_bp.post("/login/code/resend")
@public
@limiter.limit("10 per minute")
def resend_code():
    state = login_flow.pending_login()
    if state is None or not state[0].get("challenge"):
        return login_flow.expired_redirect()
    pending, login = state
    challenge = db.session.get(LoginChallenge, pending["challenge"])
    if challenge is None or challenge.login_id != login.id:
        return login_flow.expired_redirect()
    try:
        challenges.resend_code(challenge)
    except codes.CodeRefused as refused:
        flash(login_flow.code_message(refused), "error")
    else:
        flash(_("We sent a new code to %(email)s.", email=login.email), "success")
    db.session.commit()
    return redirect(url_for("auth.code"))

"""The login steps between the password and the session.

Between the password and the session the browser carries a *pending login* in the
signed Flask session cookie (login id, the code challenge's id, the chosen account
and which steps are done); every step re-reads the login and its accounts from the
database, and the pending state expires after ten minutes.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from auth import codes, identity, sessions, totp
from auth.access import area_prefix, home_url_for
from auth.models import STAFF, Account, Login
from core import audit
from core.extensions import db
from core.redirects import safe_local_target
from core.tenancy import require_reseller
from core.timeutil import utcnow

PENDING_KEY = "pending_login"
PENDING_TTL_SECONDS = 600


def new_pending(login: Login, **values) -> dict:
    """The pending state of a login whose password (or session, when switching) was
    just checked: bound to that password and to the moment it was checked."""
    return {"login_id": login.id, "at": utcnow().timestamp(), "pw": _password_binding(login), **values}


def _password_binding(login: Login) -> str:
    return codes.keyed_digest("pending-login", str(login.id), login.password_hash or "")[:32]


def pending_login() -> tuple[dict, Login] | None:
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


def expired_redirect():
    flash(_("This login attempt expired; log in again."), "warning")
    return redirect(url_for("auth.login"))


def save(pending: dict) -> None:
    session[PENDING_KEY] = pending
    session.modified = True


def advance(pending: dict):
    """Send the browser to the next step, or open the session when none is left."""
    reseller = require_reseller()
    login = db.session.get(Login, pending["login_id"])
    if pending.get("challenge") and not pending.get("code_ok"):
        return redirect(url_for("auth.code"))
    accounts = identity.usable_accounts(login)
    account = next((a for a in accounts if a.id == pending.get("account_id")), None)
    if account is None:
        if pending.get("account_id") is not None or not accounts:
            session.pop(PENDING_KEY, None)
            return expired_redirect()
        if len(accounts) > 1:
            return redirect(url_for("auth.choose_account"))
        account = accounts[0]
        pending["account_id"] = account.id
        save(pending)
    if account.is_staff and totp.staff_needs_second_factor(login, reseller) and not pending.get("mfa_ok"):
        return redirect(url_for("auth.second_factor" if login.has_totp else "auth.enrol_second_factor"))
    return finish(pending, account)


def finish(pending: dict, account: Account, recovery_codes: list[str] | None = None):
    switching = bool(pending.get("switch"))
    previous = g.get("current_account")
    sessions.start_session(account, switch=switching)
    if switching:
        audit.record("auth.switch", account, details={"from_account_id": previous.id if previous else None})
    else:
        audit.record("auth.login", account)
    # Before the commit, which expires the account: read after it, its kind would cost
    # one more query.
    # Checked again: a pending login started before this rule may carry any target.
    nxt = safe_local_target(pending.get("next"))
    target = home_url_for(account)
    if nxt and (nxt.startswith(area_prefix(STAFF)) == account.is_staff):
        target = nxt
    db.session.commit()
    if recovery_codes:
        return render_template("auth/recovery_codes.html", codes=recovery_codes, continue_url=target)
    return redirect(target)


def code_message(refused: codes.CodeRefused) -> str:
    return {
        codes.WRONG: _("The code is incorrect. Check the e-mail and try again."),
        codes.EXPIRED: _("This code has expired. Ask for a new one."),
        codes.USED: _("This code was already used. Log in again to get a new one."),
        codes.TOO_MANY_TRIES: _("Too many wrong tries. Log in again to get a new code."),
        codes.TOO_SOON: _("Wait %(n)d seconds before asking for another code.", n=refused.wait_seconds),
        codes.TOO_MANY_SENDS: _("Too many codes were sent. Wait a while and log in again."),
    }[refused.reason]

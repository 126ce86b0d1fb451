"""Passwords: the policy (length, breached and common passwords), hashing, checking
a login's password, the e-mailed links to choose one, setting and changing it.

Nothing is computed at import time: the dummy hash is made on first use.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from flask import current_app, has_app_context, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from auth import breached_passwords
from auth.identity import normalise_email
from auth.models import Account, Login
from auth.sessions import revoke_sessions
from auth.states import LinkPurpose
from core import audit, branding, mail
from core.extensions import db
from core.links import reseller_url
from core.models import Reseller
from core.timeutil import utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 128


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"


@cache
def _dummy_hash(method: str) -> str:
    """Verified against when the e-mail is unknown, so both answers take similar time
    (made on first use: nothing is computed at import time)."""
    return generate_password_hash("not-a-real-password-" + secrets.token_hex(8), method=method)


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise :class:`PasswordRejected` unless the password meets the policy."""
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(_("Use at least %(n)d characters.", n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(_("Use at most %(n)d characters.", n=MAX_PASSWORD))
    lowered = password.lower()
    if breached_passwords.is_breached(password) or (email and lowered == email.lower()):
        raise PasswordRejected(_("This password is too common. Choose another one."))
    # Optional k-anonymity check against a range API; None (down, slow, broken) lets the
    # local corpus alone decide, so an outage never blocks a password change.
    url = current_app.config.get("PWNED_PASSWORDS_URL") if has_app_context() else None
    if url and breached_passwords.pwned_count(password, url):
        raise PasswordRejected(_("This password is too common. Choose another one."))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


def verify_login(reseller_id: int, email: str, password: str) -> Login | None:
    """The login of this reseller with this e-mail and password, else ``None``."""
    login = db.session.scalar(
        select(Login).where(Login.reseller_id == reseller_id, Login.email == normalise_email(email))
    )
    if login is None or not login.password_hash:
        check_password_hash(_dummy_hash(_hash_method()), password)
        return None
    if len(password) > MAX_PASSWORD * 4:
        return None
    return login if check_password_hash(login.password_hash, password) else None


INVITE_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 3600
LINK_PURPOSES = {
    LinkPurpose.INVITE: INVITE_MAX_AGE,
    LinkPurpose.RESET: RESET_MAX_AGE,
    LinkPurpose.LOCKED: RESET_MAX_AGE,
}


def _invite_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-password-link")


def _password_fingerprint(login: Login) -> str:
    # Changes when the password is set, so a link works once.
    return hashlib.sha256((login.password_hash or "unset").encode()).hexdigest()[:16]


def password_link_token(login: Login, purpose: str = LinkPurpose.INVITE) -> str:
    """A signed token that lets its holder set this login's password once.

    Invitations last 7 days; reset links (and the link sent when a login is locked
    after too many failures) last 1 hour.
    """
    if purpose not in LINK_PURPOSES:
        raise ValueError(purpose)
    return _invite_serializer().dumps({"l": login.id, "f": _password_fingerprint(login), "p": purpose})


def login_from_password_token(token: str, reseller_id: int) -> Login | None:
    try:
        data, signed_at = _invite_serializer().loads(token, max_age=INVITE_MAX_AGE, return_timestamp=True)
    except BadSignature:
        return None
    max_age = LINK_PURPOSES.get(data.get("p", LinkPurpose.INVITE))
    if max_age is None or (utcnow() - signed_at.replace(tzinfo=None)).total_seconds() > max_age:
        return None
    login = db.session.get(Login, data.get("l"))
    if login is None or login.reseller_id != reseller_id or data.get("f") != _password_fingerprint(login):
        return None
    return login


@mail.in_product_language
def send_password_link(login: Login, *, purpose: str) -> None:
    """E-mail a link to choose a password (invitation, reset, or unlock after failures)."""
    reseller = db.session.get(Reseller, login.reseller_id)
    link = reseller_url(reseller, "auth.set_password", token=password_link_token(login, purpose))
    subjects = {
        LinkPurpose.INVITE: _("Your access to %(name)s", name=reseller.name),
        LinkPurpose.RESET: _("Choose a new password for %(name)s", name=reseller.name),
        LinkPurpose.LOCKED: _("Your access to %(name)s was locked", name=reseller.name),
    }
    text = render_template(
        "auth/mail/password_link.txt",
        purpose=purpose,
        reseller=reseller,
        link=link,
        email=login.email,
        hours=LINK_PURPOSES[purpose] // 3600,
        days=LINK_PURPOSES[purpose] // 86400,
    )
    mail.send_mail(login.email, subjects[purpose], text, **branding.mail_identity(reseller))
    audit.record(f"auth.password_link_sent.{purpose}", login, reseller_id=login.reseller_id)


def set_password(login: Login, password: str, *, proves_email: bool = False) -> None:
    """Set a new password (policy checked) and end every open session of the login.

    A link that came by e-mail proves the address: the first-login code is then
    not asked, and the failure counter starts again.
    """
    check_password_policy(password, email=login.email)
    login.password_hash = hash_password(password)
    login.failed_logins = 0
    if proves_email and login.verified_at is None:
        login.verified_at = utcnow()
    revoke_sessions(login_id=login.id)
    audit.record("auth.password_set", login, reseller_id=login.reseller_id)


def change_password(account: Account, current: str, new: str) -> bool:
    """Change the password of the current login; False when ``current`` is wrong.

    Every session of the login ends; the caller opens a new one for this browser.
    """
    login = account.login
    if not login.password_hash or not check_password_hash(login.password_hash, current[: MAX_PASSWORD * 4]):
        audit.record("auth.password_change_failed", account)
        return False
    set_password(login, new)
    audit.record("auth.password_changed", account)
    return True

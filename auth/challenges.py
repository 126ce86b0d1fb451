"""First-login codes: the e-mailed code that proves the address (and, when the
reseller asks for it, a new browser), built on the one code engine (:mod:`auth.codes`)."""

from __future__ import annotations

import secrets
from functools import partial

from flask import has_request_context, render_template, request
from flask_babel import gettext as _

from auth import codes, devices
from auth.models import Login, LoginChallenge
from core import audit, branding, mail
from core.extensions import db
from core.links import reseller_url
from core.models import Reseller
from core.timeutil import utcnow


def _digest(challenge: LoginChallenge, code: str) -> str:
    return codes.keyed_digest("code", challenge.id, code)


def _request_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _request_agent() -> str | None:
    return (request.user_agent.string or "")[:500] if has_request_context() else None


def start_challenge(login: Login) -> LoginChallenge:
    """Create a code for this login attempt and e-mail it.

    Raises :class:`codes.CodeRefused` (TOO_MANY_SENDS) when the login asked for too many
    codes in the last hour, so the password step cannot be used to flood a mailbox.
    """
    codes.check_hourly_cap(LoginChallenge, LoginChallenge.login_id == login.id)
    now = utcnow()
    challenge = LoginChallenge(
        id=secrets.token_urlsafe(32),
        reseller_id=login.reseller_id,
        login_id=login.id,
        code_hash="",
        created_at=now,
        last_sent_at=now,
        expires_at=now + codes.CODE_TTL,
        ip=_request_ip(),
        user_agent=_request_agent(),
    )
    code = codes.issue(challenge, partial(_digest, challenge))
    db.session.add(challenge)
    db.session.flush()
    _send_code(login, challenge, code)
    audit.record("auth.code_sent", login, reseller_id=login.reseller_id, actor_label=login.email)
    return challenge


def resend_code(challenge: LoginChallenge) -> None:
    """A fresh code for the same attempt; tries already spent stay spent."""
    if challenge.used_at is not None:
        raise codes.CodeRefused(codes.USED)
    code = codes.renew_code(challenge, partial(_digest, challenge))
    login = db.session.get(Login, challenge.login_id)
    _send_code(login, challenge, code)
    audit.record("auth.code_resent", login, reseller_id=login.reseller_id, actor_label=login.email)


def verify_code(challenge_id: str, login_id: int, code: str) -> LoginChallenge:
    """Spend one try of the challenge on ``code``; return it when the code wins
    (see :func:`auth.codes.check`)."""
    challenge = db.session.get(LoginChallenge, challenge_id)
    if challenge is None or challenge.login_id != login_id:
        raise codes.CodeRefused(codes.EXPIRED)
    return codes.check(challenge, code, partial(_digest, challenge))


def _send_code(login: Login, challenge: LoginChallenge, code: str) -> None:
    reseller = db.session.get(Reseller, login.reseller_id)
    text = render_template(
        "auth/mail/code.txt",
        reseller=reseller,
        forgot_url=reseller_url(reseller, "auth.forgot_password"),
        code=code,
        minutes=int(codes.CODE_TTL.total_seconds() // 60),
        browser=devices.describe_agent(challenge.user_agent),
        ip=challenge.ip or "-",
        when=utcnow(),
        email=login.email,
    )
    mail.send_mail(
        login.email,
        _("%(code)s is your access code for %(name)s", code=code, name=reseller.name),
        text,
        **branding.mail_identity(reseller),
    )

"""Proving who is at the keyboard: e-mailed first-login codes, trusted browsers,
staff TOTP with recovery codes.

Every check that must hold under concurrency is a single conditional UPDATE, so two
requests racing with the same code (or TOTP step, or recovery code) cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from flask import current_app, has_request_context, render_template, request, session
from sqlalchemy import func, select, update

from auth.models import Login, LoginChallenge, RecoveryCode, TrustedDevice
from core import audit, mail
from core.extensions import db
from core.timeutil import utcnow

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_SENDS = 5
# New challenges (each one an e-mail) per login and hour, across attempts.
MAX_CHALLENGES_PER_HOUR = 10
DEVICE_COOKIE = "rv_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600
TOTP_ISSUER_FALLBACK = "Atendimento"
RECOVERY_CODES = 10


def _hmac(*parts: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def keyed_digest(*parts: str) -> str:
    """HMAC-SHA256 of ``parts`` under the application's secret: how one-time codes are
    stored (never the code itself). Put a purpose and the ids the code is bound to
    among the parts, so a code only ever matches what it was issued for."""
    return _hmac(*parts)


def _request_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _request_agent() -> str | None:
    return (request.user_agent.string or "")[:500] if has_request_context() else None


# --- first-login codes ---------------------------------------------------------------


class CodeRefused(Exception):
    """The code was not accepted; ``reason`` is one of the REASON_* values."""

    def __init__(self, reason: str, wait_seconds: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.wait_seconds = wait_seconds


WRONG = "wrong"
EXPIRED = "expired"
USED = "used"
TOO_MANY_TRIES = "too_many_tries"
TOO_SOON = "too_soon"
TOO_MANY_SENDS = "too_many_sends"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def start_challenge(login: Login) -> LoginChallenge:
    """Create a code for this login attempt and e-mail it.

    Raises :class:`CodeRefused` (TOO_MANY_SENDS) when the login asked for too many
    codes in the last hour, so the password step cannot be used to flood a mailbox.
    """
    now = utcnow()
    recent = db.session.scalar(
        select(func.count())
        .select_from(LoginChallenge)
        .where(LoginChallenge.login_id == login.id, LoginChallenge.created_at > now - timedelta(hours=1))
    )
    if recent >= MAX_CHALLENGES_PER_HOUR:
        raise CodeRefused(TOO_MANY_SENDS)
    challenge = LoginChallenge(
        id=secrets.token_urlsafe(32),
        reseller_id=login.reseller_id,
        login_id=login.id,
        code_hash="",
        created_at=now,
        last_sent_at=now,
        expires_at=now + CODE_TTL,
        ip=_request_ip(),
        user_agent=_request_agent(),
    )
    code = new_code()
    challenge.code_hash = _hmac("code", challenge.id, code)
    db.session.add(challenge)
    db.session.flush()
    _send_code(login, challenge, code)
    audit.record("auth.code_sent", login, reseller_id=login.reseller_id, actor_label=login.email)
    return challenge


def resend_code(challenge: LoginChallenge) -> None:
    """A fresh code for the same attempt; tries already spent stay spent."""
    if challenge.used_at is not None:
        raise CodeRefused(USED)
    code = renew_code(challenge, lambda fresh: _hmac("code", challenge.id, fresh))
    login = db.session.get(Login, challenge.login_id)
    _send_code(login, challenge, code)
    audit.record("auth.code_resent", login, reseller_id=login.reseller_id, actor_label=login.email)


def renew_code(row, digest) -> str:
    """Give a one-time code row (a login challenge, a deletion code) a fresh code, within
    the resend limits (``MAX_SENDS``, ``RESEND_AFTER``); returns the code, stored as
    ``digest(code)``. A conditional UPDATE: of two concurrent resends, one wins."""
    now = utcnow()
    if row.sends >= MAX_SENDS:
        raise CodeRefused(TOO_MANY_SENDS)
    wait = (row.last_sent_at + RESEND_AFTER - now).total_seconds()
    if wait > 0:
        raise CodeRefused(TOO_SOON, wait_seconds=int(wait) + 1)
    code = new_code()
    model = type(row)
    changed = db.session.execute(
        update(model)
        .where(model.id == row.id, model.used_at.is_(None), model.sends == row.sends)
        .values(code_hash=digest(code), sends=model.sends + 1, last_sent_at=now, expires_at=now + CODE_TTL)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise CodeRefused(TOO_SOON, wait_seconds=int(RESEND_AFTER.total_seconds()))
    return code


def verify_code(challenge_id: str, login_id: int, code: str) -> LoginChallenge:
    """Spend one try of the challenge on ``code``; return it when the code wins.

    The try is counted before the comparison, and the code is marked used by a
    conditional UPDATE: of two concurrent submissions of the right code, one wins.
    """
    now = utcnow()
    challenge = db.session.get(LoginChallenge, challenge_id)
    if challenge is None or challenge.login_id != login_id:
        raise CodeRefused(EXPIRED)
    if challenge.used_at is not None:
        raise CodeRefused(USED)
    if challenge.expires_at <= now:
        raise CodeRefused(EXPIRED)
    counted = db.session.execute(
        update(LoginChallenge)
        .where(
            LoginChallenge.id == challenge_id,
            LoginChallenge.attempts < CODE_MAX_TRIES,
            LoginChallenge.used_at.is_(None),
        )
        .values(attempts=LoginChallenge.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if counted != 1:
        db.session.refresh(challenge)
        raise CodeRefused(USED if challenge.used_at is not None else TOO_MANY_TRIES)
    db.session.refresh(challenge)
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(cleaned) != CODE_DIGITS or not hmac.compare_digest(
        challenge.code_hash, _hmac("code", challenge.id, cleaned)
    ):
        raise CodeRefused(TOO_MANY_TRIES if challenge.attempts >= CODE_MAX_TRIES else WRONG)
    won = db.session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge_id, LoginChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise CodeRefused(USED)
    db.session.refresh(challenge)
    return challenge


def _send_code(login: Login, challenge: LoginChallenge, code: str) -> None:
    from flask_babel import gettext as _

    from core.links import reseller_url
    from core.models import Reseller

    reseller = db.session.get(Reseller, login.reseller_id)
    text = render_template(
        "auth/mail/code.txt",
        reseller=reseller,
        forgot_url=reseller_url(reseller, "auth.forgot_password"),
        code=code,
        minutes=int(CODE_TTL.total_seconds() // 60),
        browser=describe_agent(challenge.user_agent),
        ip=challenge.ip or "-",
        when=utcnow(),
        email=login.email,
    )
    mail.send_mail(
        login.email,
        _("%(code)s is your access code for %(name)s", code=code, name=reseller.name),
        text,
        sender_name=reseller.name,
        reply_to=reseller.support_email,
    )


def describe_agent(user_agent: str | None) -> str:
    """A short, human name for a browser: "Chrome on Windows"."""
    if not user_agent:
        return "?"
    ua = user_agent
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        ua.split("/")[0][:40],
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        None,
    )
    return f"{browser} / {system}" if system else browser


# --- trusted browsers ----------------------------------------------------------------


def browser_token() -> str | None:
    token = request.cookies.get(DEVICE_COOKIE) if has_request_context() else None
    return token if token and 20 <= len(token) <= 100 else None


def device_hash(token: str | None) -> str | None:
    return _hmac("device", token) if token else None


def is_trusted(login: Login, token: str | None) -> bool:
    if not token:
        return False
    device = db.session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.login_id == login.id,
            TrustedDevice.token_hash == _hmac("device", token),
            TrustedDevice.revoked_at.is_(None),
        )
    )
    if device is None:
        return False
    device.last_used_at = utcnow()
    return True


def trust_browser(login: Login, token: str | None) -> str:
    """Trust this browser for the login; returns the browser token for the cookie."""
    token = token or secrets.token_urlsafe(32)
    token_hash = _hmac("device", token)
    device = db.session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.login_id == login.id, TrustedDevice.token_hash == token_hash
        )
    )
    now = utcnow()
    if device is None:
        device = TrustedDevice(
            reseller_id=login.reseller_id,
            login_id=login.id,
            token_hash=token_hash,
            user_agent=_request_agent(),
            ip=_request_ip(),
            created_at=now,
        )
        db.session.add(device)
    device.revoked_at = None
    device.last_used_at = now
    audit.record("auth.browser_trusted", login, reseller_id=login.reseller_id, actor_label=login.email)
    return token


def set_browser_cookie(response, token: str):
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
    return response


def needs_code(login: Login, reseller) -> bool:
    """First login, or (when the reseller asks for it) a browser not trusted yet."""
    if login.verified_at is None:
        return True
    return bool(reseller.code_on_every_new_browser) and not is_trusted(login, browser_token())


# --- TOTP ----------------------------------------------------------------------------

TOTP_STEP = 30


@dataclass
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


ENROL_KEY = "totp_enrolment"


def start_enrolment(login: Login, issuer: str) -> Enrolment:
    """The secret being enrolled by this browser, kept in its session until confirmed.

    It is never stored on the login before a code confirms it, so nobody else who
    knows the password can read a secret the owner is about to scan.
    """
    if login.has_totp:
        raise ValueError("already enrolled")
    pending = session.get(ENROL_KEY)
    if not pending or pending.get("login_id") != login.id:
        pending = {"login_id": login.id, "secret": pyotp.random_base32()}
        session[ENROL_KEY] = pending
    return enrolment_view(login, pending["secret"], issuer)


def enrolment_view(login: Login, secret: str, issuer: str) -> Enrolment:
    import io

    import segno

    uri = pyotp.TOTP(secret).provisioning_uri(name=login.email, issuer_name=issuer)
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return Enrolment(secret=secret, uri=uri, qr_svg=out.getvalue().decode())


def _matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(cleaned) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int((at if at is not None else time.time()) // TOTP_STEP)
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), cleaned):
            return step
    return None


def check_totp(login: Login, code: str, secret: str | None = None) -> bool:
    """True once per valid code: a code already used (or an older one) is refused."""
    secret = secret or login.totp_secret
    if not secret:
        return False
    step = _matching_step(secret, code)
    if step is None:
        return False
    won = db.session.execute(
        update(Login)
        .where(Login.id == login.id, Login.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(login)
    return won == 1


def confirm_enrolment(login: Login, code: str) -> list[str] | None:
    """Turn 2FA on when ``code`` matches this browser's pending secret.

    Returns the new recovery codes (shown once), or ``None`` when the code is wrong.
    """
    pending = session.get(ENROL_KEY) or {}
    secret = pending.get("secret") if pending.get("login_id") == login.id else None
    if login.has_totp or not secret or not check_totp(login, code, secret):
        return None
    session.pop(ENROL_KEY, None)
    login.totp_secret = secret
    login.totp_enabled_at = utcnow()
    codes = new_recovery_codes(login)
    audit.record("auth.2fa_enabled", login, reseller_id=login.reseller_id)
    return codes


def disable_totp(login: Login) -> None:
    login.totp_secret = None
    login.totp_enabled_at = None
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.login_id == login.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.record("auth.2fa_disabled", login, reseller_id=login.reseller_id)


def _format_recovery(raw: str) -> str:
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def new_recovery_codes(login: Login) -> list[str]:
    """Replace the login's recovery codes with fresh ones (shown once)."""
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.login_id == login.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    for raw in codes:
        db.session.add(
            RecoveryCode(reseller_id=login.reseller_id, login_id=login.id, code_hash=_hmac("recovery", raw))
        )
    audit.record("auth.recovery_codes_created", login, reseller_id=login.reseller_id)
    return [_format_recovery(raw) for raw in codes]


def use_recovery_code(login: Login, code: str) -> bool:
    raw = _normalise_recovery(code)
    if len(raw) != 10:
        return False
    won = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.login_id == login.id,
            RecoveryCode.code_hash == _hmac("recovery", raw),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won == 1:
        audit.record("auth.recovery_code_used", login, reseller_id=login.reseller_id)
    return won == 1


def recovery_codes_left(login: Login) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.login_id == login.id, RecoveryCode.used_at.is_(None))
    )


def second_factor(login: Login, code: str) -> bool:
    """A TOTP code, or else a recovery code."""
    return check_totp(login, code) or use_recovery_code(login, code)


def staff_needs_second_factor(login: Login, reseller) -> bool:
    return bool(reseller.require_staff_2fa) or login.has_totp

"""Staff second factor: TOTP enrolment and checks, and recovery codes."""

from __future__ import annotations

import hmac
import io
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from flask import session
from sqlalchemy import func, select, update

from auth.codes import keyed_digest
from auth.models import Login, RecoveryCode
from core import audit
from core.extensions import db
from core.timeutil import utcnow

RECOVERY_CODES = 10
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
            RecoveryCode(
                reseller_id=login.reseller_id, login_id=login.id, code_hash=keyed_digest("recovery", raw)
            )
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
            RecoveryCode.code_hash == keyed_digest("recovery", raw),
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

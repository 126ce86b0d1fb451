"""The one one-time-code engine: issue a code, cap how many are sent per hour, renew
it within the resend limits, and check it with attempt counting.

Codes are stored as a keyed digest (never the code itself). A code row is any model
with ``id``, ``code_hash``, ``attempts``, ``sends``, ``last_sent_at``, ``expires_at``,
``used_at`` and ``created_at`` (login challenges, client deletion codes). Every check
that must hold under concurrency is a single conditional UPDATE, so two requests
racing with the same code cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from auth.states import CodeRefusal
from core.extensions import db
from core.timeutil import utcnow

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_SENDS = 5
# New codes (each one an e-mail) per owner and hour, across attempts.
MAX_CHALLENGES_PER_HOUR = 10

WRONG = CodeRefusal.WRONG
EXPIRED = CodeRefusal.EXPIRED
USED = CodeRefusal.USED
TOO_MANY_TRIES = CodeRefusal.TOO_MANY_TRIES
TOO_SOON = CodeRefusal.TOO_SOON
TOO_MANY_SENDS = CodeRefusal.TOO_MANY_SENDS


class CodeRefused(Exception):
    """The code was not accepted; ``reason`` is one of the reason values above."""

    def __init__(self, reason: str, wait_seconds: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.wait_seconds = wait_seconds


def keyed_digest(*parts: str) -> str:
    """HMAC-SHA256 of ``parts`` under the application's secret: how one-time codes are
    stored (never the code itself). Put a purpose and the ids the code is bound to
    among the parts, so a code only ever matches what it was issued for."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def check_hourly_cap(model, *owner) -> None:
    """Raise :class:`CodeRefused` (TOO_MANY_SENDS) when the rows of ``model`` matching
    ``owner`` (e.g. ``Model.login_id == 7``) created in the last hour reach the cap,
    so no form can be used to flood a mailbox."""
    recent = db.session.scalar(
        select(func.count())
        .select_from(model)
        .where(*owner, model.created_at > utcnow() - timedelta(hours=1))
    )
    if recent >= MAX_CHALLENGES_PER_HOUR:
        raise CodeRefused(TOO_MANY_SENDS)


def issue(row, digest: Callable[[str], str]) -> str:
    """A fresh code for a new row (stored as ``digest(code)``); returns the code."""
    code = new_code()
    row.code_hash = digest(code)
    return code


def renew_code(row, digest: Callable[[str], str]) -> str:
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


def digest_matches(stored: str | None, digest: Callable[[str], str], code: str) -> bool:
    cleaned = "".join(ch for ch in (code or "") if ch.isdigit())
    return len(cleaned) == CODE_DIGITS and stored is not None and hmac.compare_digest(stored, digest(cleaned))


def check(row, code: str, digest: Callable[[str], str], *, matches=None, on_wrong=None):
    """Spend one try of ``row`` on ``code``; return the row when the code wins.

    The try is counted before the comparison, and the code is marked used by a
    conditional UPDATE: of two concurrent submissions of the right code, one wins.
    ``matches(code)`` replaces the digest comparison (an authenticator app's code);
    ``on_wrong(row)`` runs before a wrong code is refused.
    """
    now = utcnow()
    if row.used_at is not None:
        raise CodeRefused(USED)
    if row.expires_at <= now:
        raise CodeRefused(EXPIRED)
    model = type(row)
    counted = db.session.execute(
        update(model)
        .where(model.id == row.id, model.attempts < CODE_MAX_TRIES, model.used_at.is_(None))
        .values(attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(row)
    if counted != 1:
        raise CodeRefused(USED if row.used_at is not None else TOO_MANY_TRIES)
    right = matches(code) if matches is not None else digest_matches(row.code_hash, digest, code)
    if not right:
        if on_wrong is not None:
            on_wrong(row)
        raise CodeRefused(TOO_MANY_TRIES if row.attempts >= CODE_MAX_TRIES else WRONG)
    won = db.session.execute(
        update(model)
        .where(model.id == row.id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise CodeRefused(USED)
    db.session.refresh(row)
    return row

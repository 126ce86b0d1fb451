"""Log in as: staff act as a client user with exactly that user's permissions.

The impersonation is a session of the *user's* account whose row also names the
real actor (``impersonator_account_id``, the RFC 8693 ``act``). The staff member's
own session stays alive underneath: its token waits in the signed cookie and, when
the impersonation ends or expires, a fresh staff session (new id, same absolute
deadline) replaces it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import g, session
from sqlalchemy import select

from auth import permissions as perm
from auth import services
from auth.models import CLIENT_USER, STAFF, Account, AuthSession
from core import audit
from core.extensions import db
from core.timeutil import utcnow

RETURN_KEY = "return_sid"

NOT_ALLOWED = "not_allowed"
NOT_A_CLIENT_USER = "not_a_client_user"
INACTIVE = "inactive"
NESTED = "nested"


class ImpersonationRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_can_impersonate(staff: Account, user: Account) -> None:
    """Raise :class:`ImpersonationRefused` unless ``staff`` may act as ``user`` now."""
    current = g.get("auth_session")
    if current is not None and current.impersonator_account_id is not None:
        raise ImpersonationRefused(NESTED)
    if staff.kind != STAFF or staff.role is None or not staff.role.grants(perm.LOG_IN_AS):
        raise ImpersonationRefused(NOT_ALLOWED)
    if user.kind != CLIENT_USER or user.reseller_id != staff.reseller_id:
        raise ImpersonationRefused(NOT_A_CLIENT_USER)
    if not user.is_usable():
        raise ImpersonationRefused(INACTIVE)
    # A client without an active plan: allowed, and the workspace then shows only its
    # subscription page unless the staff member may handle clients without a plan.


def start(staff: Account, user: Account, minutes: int) -> AuthSession:
    """Open an impersonation session for ``user``; the staff session waits beneath it."""
    check_can_impersonate(staff, user)
    staff_token = session.get(services.SESSION_KEY)
    audit.record(
        "impersonation.started",
        user,
        details={"staff_account_id": staff.id, "minutes": minutes},
    )
    row = services.start_session(user, impersonator=staff, minutes=minutes, keep_current=True)
    session[RETURN_KEY] = staff_token
    return row


def end(*, reason: str = "ended") -> Account | None:
    """End the current impersonation and reopen the staff member's own session.

    Returns the staff account when its session could be reopened, else ``None``
    (the staff session was revoked or reached its absolute limit meanwhile).
    """
    current = g.get("auth_session")
    staff_token = session.get(RETURN_KEY)
    if current is not None and current.impersonator_account_id is not None:
        if current.revoked_at is None:
            current.revoked_at = utcnow()
        audit.record(f"impersonation.{reason}", current.account, details={"session_id": current.id})
    return resume_staff(staff_token)


def resume_staff(staff_token: str | None) -> Account | None:
    """Replace the waiting staff session by a new one (new id, same deadline)."""
    session.pop(RETURN_KEY, None)
    session.pop(services.SESSION_KEY, None)
    g.auth_session = None
    g.current_account = None
    if not staff_token:
        return None
    old = db.session.scalar(
        select(AuthSession).where(AuthSession.token_hash == services.hash_token(staff_token))
    )
    now = utcnow()
    if (
        old is None
        or old.revoked_at is not None
        or old.expires_at <= now
        or old.impersonator_account_id is not None
        or old.account is None
        or not old.account.is_usable()
    ):
        return None
    staff = old.account
    new = services.start_session(staff, expires_at=old.expires_at)
    old.revoked_at = now
    new.created_at = old.created_at
    return staff


def past_impersonations(login_id: int, limit: int = 20) -> list[AuthSession]:
    """Recent impersonations of any account of this login (who, when), newest first."""
    return db.session.scalars(
        select(AuthSession)
        .join(Account, Account.id == AuthSession.account_id)
        .where(Account.login_id == login_id, AuthSession.impersonator_account_id.is_not(None))
        .order_by(AuthSession.created_at.desc())
        .limit(limit)
    ).all()


def impersonation_deadline(row: AuthSession) -> timedelta:
    return row.expires_at - utcnow()

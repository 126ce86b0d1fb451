"""Log in as: staff act as a client user with exactly that user's permissions.

The impersonation is a session of the *user's* account whose row also names the
real actor (``impersonator_account_id``, the RFC 8693 ``act``) and the staff session
beneath it (``parent_session_id``). That staff session stays alive underneath: its
token waits in the signed cookie and, when the impersonation ends or expires, a fresh
staff session (new id, same absolute deadline) replaces it.

The impersonation never outlives the staff member's own controls: on every request
the staff session must still be open, within its absolute and idle limits (the
person at the keyboard is staff, so staff limits apply and their activity counts),
the staff account usable and its role still granting *log in as*. Ending the staff
session (logout, "end every other session", password change, deactivation) ends the
impersonation on its next request; logging out while impersonating ends both.
"""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from auth import permissions as perm
from auth import sessions
from auth.access import home_url_for, is_impersonating
from auth.models import CLIENT_USER, STAFF, Account, AuthSession
from auth.states import ImpersonationRefusal
from core import audit
from core.extensions import db
from core.timeutil import utcnow

RETURN_KEY = "return_sid"

NOT_ALLOWED = ImpersonationRefusal.NOT_ALLOWED
NOT_A_CLIENT_USER = ImpersonationRefusal.NOT_A_CLIENT_USER
INACTIVE = ImpersonationRefusal.INACTIVE
NESTED = ImpersonationRefusal.NESTED


class ImpersonationRefused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_can_impersonate(staff: Account, user: Account) -> None:
    """Raise :class:`ImpersonationRefused` unless ``staff`` may act as ``user`` now."""
    if is_impersonating():
        raise ImpersonationRefused(NESTED)
    if staff.kind != STAFF or staff.role is None or not staff.role.grants(perm.LOG_IN_AS):
        raise ImpersonationRefused(NOT_ALLOWED)
    if user.kind != CLIENT_USER or user.reseller_id != staff.reseller_id:
        raise ImpersonationRefused(NOT_A_CLIENT_USER)
    if not user.is_usable():
        raise ImpersonationRefused(INACTIVE)
    # A client without an active plan: allowed, and the workspace then shows only its
    # subscription page unless the staff member may handle clients without a plan.


def lifetime(minutes: int | None) -> timedelta:
    """How long a "log in as" lasts: the reseller's minutes (an hour when unset)."""
    return timedelta(minutes=minutes or 60)


def start(staff: Account, user: Account, minutes: int) -> AuthSession:
    """Open an impersonation session for ``user``; the staff session waits beneath it."""
    check_can_impersonate(staff, user)
    staff_token = session.get(sessions.SESSION_KEY)
    audit.record(
        "impersonation.started",
        user,
        details={"staff_account_id": staff.id, "minutes": minutes},
    )
    row = sessions.start_session(user, impersonator=staff, lifetime=lifetime(minutes), keep_current=True)
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
            sessions.wake(current.id)  # its workspace streams close now, not at a heartbeat
        audit.record(f"impersonation.{reason}", current.account, details={"session_id": current.id})
    return resume_staff(staff_token)


def resume_staff(staff_token: str | None) -> Account | None:
    """Replace the waiting staff session by a new one (new id, same deadline).

    ``None`` (and the browser logged out) when that session ended meanwhile, reached
    its absolute limit or sat idle past the staff limit."""
    session.pop(RETURN_KEY, None)
    session.pop(sessions.SESSION_KEY, None)
    sessions.set_request_session(None, None)
    if not staff_token:
        return None
    old = db.session.scalar(
        select(AuthSession).where(AuthSession.token_hash == sessions.hash_token(staff_token))
    )
    now = utcnow()
    if old is not None and old.revoked_at is None and now - old.last_seen_at > _staff_idle():
        old.revoked_at = now  # idle while impersonating: the panel asks for the login again
        sessions.wake(old.id)
        return None
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
    new = sessions.start_session(staff, expires_at=old.expires_at)
    old.revoked_at = now
    sessions.wake(old.id)
    new.created_at = old.created_at
    return staff


def after_lapse(row: AuthSession | None):
    """The browser's impersonation ended by itself (expired, or revoked elsewhere):
    back to the panel when the staff session can resume, else to the login page."""
    if row is not None and row.impersonator_account_id is not None and row.revoked_at is None:
        audit.record("impersonation.expired", row.account, details={"session_id": row.id})
    staff = resume_staff(session.get(RETURN_KEY))
    db.session.commit()
    if staff is None:
        session.clear()
        return None
    flash(_("The time to act as the user is over: you are back in the panel."), "info")
    return redirect(home_url_for(staff))


def _staff_idle():
    return sessions.limits(g.get("reseller"), staff=True)[0]


def staff_session_holds(row: AuthSession, now) -> bool:
    """The staff session beneath an impersonation is alive and its account usable."""
    parent = db.session.get(AuthSession, row.parent_session_id) if row.parent_session_id else None
    return (
        parent is not None
        and parent.revoked_at is None
        and parent.expires_at > now
        and now - parent.last_seen_at <= _staff_idle()
        and parent.account_id == row.impersonator_account_id
        and parent.impersonator_account_id is None
        and row.impersonator is not None
        and row.impersonator.is_usable()
    )


def check_still_allowed(row: AuthSession, now):
    """Called on every request of an impersonation; a response when it must end."""
    g.auth_session = row  # what end() and end_with_staff() act on
    if not staff_session_holds(row, now):
        # The staff member's own session is over (ended, expired, idle) or the staff
        # account was deactivated: nothing to go back to.
        end_with_staff(reason="staff_session_ended")
        db.session.commit()
        flash(_("Your session has ended. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    staff = row.impersonator
    if staff.role is None or not staff.role.grants(perm.LOG_IN_AS):
        end(reason="permission_removed")
        db.session.commit()
        if g.get("current_account") is None:
            session.clear()
            return redirect(url_for("auth.login"))
        flash(_("You may no longer log in as client users: you are back in the panel."), "warning")
        return redirect(home_url_for(g.current_account))
    parent = db.session.get(AuthSession, row.parent_session_id)
    if now - parent.last_seen_at > sessions.TOUCH_EVERY:
        parent.last_seen_at = now  # staff activity: the staff session's idle clock restarts
        db.session.commit()
    return None


def end_with_staff(*, reason: str) -> None:
    """End the current impersonation and the staff session beneath it (logout while
    acting as a user, or the staff session being over): both rows, on the server."""
    current = g.get("auth_session")
    now = utcnow()
    if current is not None and current.impersonator_account_id is not None:
        ids = [current.id] + ([current.parent_session_id] if current.parent_session_id else [])
        staff_token = session.get(RETURN_KEY)
        if staff_token:
            ids += db.session.scalars(
                select(AuthSession.id).where(AuthSession.token_hash == sessions.hash_token(staff_token))
            ).all()
        ended = db.session.scalars(
            update(AuthSession)
            .where(AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(AuthSession.id)
            .execution_options(synchronize_session=False)
        ).all()
        sessions.wake(*ended)
        audit.record(f"impersonation.{reason}", current.account, details={"session_id": current.id})
    session.clear()
    sessions.set_request_session(None, None)


def acting_now(login_id: int) -> list[AuthSession]:
    """The impersonations in progress by any staff account of this login (they belong
    in that login's session list, where they can be ended)."""
    return db.session.scalars(
        select(AuthSession)
        .where(
            AuthSession.impersonator_account_id.in_(select(Account.id).where(Account.login_id == login_id)),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.created_at.desc())
    ).all()


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

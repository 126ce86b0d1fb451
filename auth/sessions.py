"""Server-side revocable sessions: open one (and rotate the cookie), end the
current one, end many at once, and bind a session to the request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, has_request_context, request, session
from sqlalchemy import or_, select, update

from auth.models import CLIENT_USER, STAFF, Account, AuthSession, Login
from core import audit, live
from core.extensions import db
from core.models import Reseller
from core.states import ActorKind
from core.tenancy import set_client_scope
from core.timeutil import utcnow

# The platform's maxima (QUALITY "Sessions"); a reseller may set shorter ones
# (Reseller.staff_idle_minutes ... user_session_days, see :func:`limits`).
STAFF_IDLE = timedelta(minutes=30)
STAFF_ABSOLUTE = timedelta(hours=12)
USER_IDLE = timedelta(days=14)
USER_ABSOLUTE = timedelta(days=30)
# Touch last_seen_at at most this often, so reads do not become writes.
TOUCH_EVERY = timedelta(seconds=60)
SESSION_KEY = "sid"


def limits(reseller, *, staff: bool) -> tuple[timedelta, timedelta]:
    """``(idle, absolute)`` of a staff or client-user session in ``reseller``: its own
    settings, never above the platform's maxima (a row edited by hand included)."""
    if staff:
        idle, absolute = STAFF_IDLE, STAFF_ABSOLUTE
        mine = (
            _of(reseller, "staff_idle_minutes", timedelta(minutes=1)),
            _of(reseller, "staff_session_hours", timedelta(hours=1)),
        )
    else:
        idle, absolute = USER_IDLE, USER_ABSOLUTE
        mine = (
            _of(reseller, "user_idle_days", timedelta(days=1)),
            _of(reseller, "user_session_days", timedelta(days=1)),
        )
    return min(idle, mine[0] or idle), min(absolute, mine[1] or absolute)


def _of(reseller, column: str, unit: timedelta) -> timedelta | None:
    value = getattr(reseller, column, None) if reseller is not None else None
    return unit * value if value and value > 0 else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    account: Account,
    *,
    impersonator: Account | None = None,
    lifetime: timedelta | None = None,
    keep_current: bool = False,
    expires_at=None,
    switch: bool = False,
) -> AuthSession:
    """Open a new server-side session for ``account`` and rotate the cookie.

    It lasts ``lifetime`` from now (an impersonation: see :mod:`auth.impersonation`),
    else until ``expires_at``, else the absolute limit of the account's kind.

    The current session ends, unless ``keep_current`` (an impersonation starting on
    top of the staff session, which resumes afterwards and becomes its parent).

    The account's last login becomes now; the login's too, unless this is a ``switch``
    between accounts of a login that is signed in already (one write fewer there).
    """
    parent = g.get("auth_session") if keep_current else None
    if keep_current:
        set_request_session(None, None)
    else:
        end_current_session(audit_it=False)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    if lifetime is not None:
        expires = now + lifetime
    elif expires_at is not None:
        expires = expires_at
    else:
        reseller = db.session.get(Reseller, account.reseller_id)
        expires = now + limits(reseller, staff=account.kind == STAFF)[1]
    auth_session = AuthSession(
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        reseller_id=account.reseller_id,
        login_id=account.login_id,
        account=account,
        impersonator_account_id=impersonator.id if impersonator else None,
        parent_session_id=parent.id if parent is not None and impersonator is not None else None,
        expires_at=expires,
        ip=request.remote_addr if has_request_context() else None,
        user_agent=(request.user_agent.string or "")[:500] if has_request_context() else None,
    )
    db.session.add(auth_session)
    if impersonator is None:
        account.last_login_at = now
        if not switch:
            account.login.last_login_at = now
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = False
    bind_request(auth_session)
    return auth_session


def end_current_session(*, audit_it: bool = True) -> None:
    current = g.get("auth_session")
    if current is not None and current.revoked_at is None:
        current.revoked_at = utcnow()
        wake(current.id)
        if audit_it:
            audit.record("auth.logout", current.account)
    session.pop(SESSION_KEY, None)
    set_request_session(None, None)


def revoke_sessions(
    *,
    login_id: int | None = None,
    account_id: int | None = None,
    client_id: int | None = None,
    keep_session_id: int | None = None,
) -> int:
    """End every open session of a login, an account or a client's users at once,
    with the impersonations their staff sessions carry (but ``keep_session_id``).

    Ending a login's sessions also ends its logins in progress (a password checked
    before now no longer opens a session: see ``Login.sessions_revoked_at``).
    """
    now = utcnow()
    owned = select(AuthSession.id).where(AuthSession.revoked_at.is_(None))
    if login_id is not None:
        owned = owned.where(AuthSession.login_id == login_id)
        db.session.execute(
            update(Login)
            .where(Login.id == login_id)
            .values(sessions_revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    if account_id is not None:
        owned = owned.where(AuthSession.account_id == account_id)
    if client_id is not None:
        users = select(Account.id).where(Account.client_id == client_id)
        owned = owned.where(AuthSession.account_id.in_(users))
    if keep_session_id is not None:
        owned = owned.where(AuthSession.id != keep_session_id)
    # The account as impersonator: its "log in as" sessions end with it.
    also = [AuthSession.impersonator_account_id == account_id] if account_id is not None else []
    return end_sessions(owned, *also, now=now)


def end_sessions(chosen, *also, now=None) -> int:
    """End the open sessions whose ids ``chosen`` (a select) gives, with the "log in
    as" sessions they carry, and the rows matching any of ``also``; how many ended."""
    ended = db.session.scalars(
        update(AuthSession)
        .where(
            AuthSession.revoked_at.is_(None),
            or_(AuthSession.id.in_(chosen), AuthSession.parent_session_id.in_(chosen), *also),
        )
        .values(revoked_at=now or utcnow())
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    ).all()
    wake(*ended)
    return len(ended)


def session_channel(session_id: int) -> str:
    """The live bus channel that wakes a session's open streams when it ends (they
    check the session again and close)."""
    return f"session:{session_id}"


def wake_impersonations(*, account_id: int | None = None, role_id: int | None = None) -> None:
    """The open "log in as" sessions of a staff account, or of every staff account
    holding a role, read again by their streams (a role change may have taken *log in
    as* away: ``session_loader.session_alive`` then closes them)."""
    acting = select(AuthSession.id).where(
        AuthSession.revoked_at.is_(None), AuthSession.impersonator_account_id.is_not(None)
    )
    if account_id is not None:
        acting = acting.where(AuthSession.impersonator_account_id == account_id)
    if role_id is not None:
        holders = select(Account.id).where(Account.role_id == role_id)
        acting = acting.where(AuthSession.impersonator_account_id.in_(holders))
    wake(*db.session.scalars(acting))


def wake(*session_ids: int) -> None:
    """Tell the open streams of these sessions (ended by a write of their own, not by
    :func:`end_sessions`) to read them again: sent when the transaction commits."""
    for session_id in session_ids:
        live.publish(session_channel(session_id), {})


def set_request_session(auth_session: AuthSession | None, account: Account | None) -> None:
    """The request's session and account (``None, None``: nobody is signed in).
    Flask-Login's ``current_user`` is loaded again on its next use (it caches the
    user it loaded in ``g._login_user``)."""
    g.auth_session = auth_session
    g.current_account = account
    g.pop("_login_user", None)


def bind_request(auth_session: AuthSession) -> None:
    """Make ``auth_session`` the current request's: its account, actor and client scope."""
    account = auth_session.account
    set_request_session(auth_session, account)
    g.subject_account_id = account.id
    g.actor_account_id = auth_session.impersonator_account_id or account.id
    with db.session.no_autoflush:  # a lazy login read must not flush the new session and
        # its audit event early: unflushed, the event is chained at the commit in one statement
        g.actor_label = account.login.email
    staff_acts = auth_session.impersonator_account_id is not None or account.kind == STAFF
    g.actor_kind = ActorKind.STAFF if staff_acts else ActorKind.CLIENT_USER
    set_client_scope(account.client_id if account.kind == CLIENT_USER else None)

"""The request's server-side session: the cookie's token resolved, once per request,
into the current account, with every check that can end it on the way (revoked,
expired, idle, account no longer usable, and for "log in as" the staff session and
rights beneath it)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, request, session
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased, joinedload

from auth import impersonation, sessions
from auth import permissions as perm
from auth.access import login_manager
from auth.models import STAFF, Account, AuthSession
from core.extensions import db
from core.models import Reseller
from core.tenancy import HostCompanion
from core.timeutil import utcnow


def _other_accounts():
    """Whether the session's login has another active account: only then does the avatar
    menu look for the accounts it can switch to (most logins have one)."""
    others = aliased(Account)
    return (
        select(others.id)
        .where(
            others.login_id == AuthSession.login_id,
            others.active.is_(True),
            others.id != AuthSession.account_id,
        )
        .exists()
    )


def _session_loads():
    account = joinedload(AuthSession.account)
    return (
        account.joinedload(Account.login),
        account.joinedload(Account.role),
        account.joinedload(Account.client),
    )


def _session_lookup():
    """One round trip for what every request reads: the session, its account, the
    account's login, role and (for a client user) client, and whether the login has
    other accounts. Built once: building it cost more than running it."""
    return (
        select(AuthSession, _other_accounts())
        .where(AuthSession.token_hash == bindparam("token_hash"))
        .options(*_session_loads())
    )


# Built on first use, not at import: the mappers it names (a client user's Client)
# belong to packages imported after this one.
_SESSION_LOOKUP = None


def _cookie_token_hash() -> dict | None:
    """The host companion's parameters: the digest of the cookie's session token."""
    token = session.get(sessions.SESSION_KEY)
    return {"token_hash": sessions.hash_token(token)} if token else None


def _with_session(host_statement):
    """The host's statement with the same columns as ``_session_lookup``: the cookie's
    session, of that very reseller (core.tenancy runs it in that reseller's scope)."""
    return (
        host_statement.add_columns(AuthSession, _other_accounts())
        .outerjoin(
            AuthSession,
            and_(AuthSession.token_hash == bindparam("token_hash"), AuthSession.reseller_id == Reseller.id),
        )
        .options(*_session_loads())
    )


def _keep_session(columns) -> None:
    g.prefetched_session = tuple(columns)


HOST_COMPANION = HostCompanion(wanted=_cookie_token_hash, extend=_with_session, receive=_keep_session)


def load_request_session():
    """Resolve the session cookie into the current account (once per request)."""
    sessions.set_request_session(None, None)
    g.actor_account_id = None
    g.subject_account_id = None
    g.actor_kind = None
    token = session.get(sessions.SESSION_KEY)
    if not token:
        if _ENDED_KEY in session and _renders_page():
            _tell_ended(expired=session.pop(_ENDED_KEY))
        return
    if g.get("reseller") is None:
        return
    row = g.pop("prefetched_session", None)  # read with the host (core.tenancy), if it could be
    if row is None:
        global _SESSION_LOOKUP  # noqa: PLW0603 - built once, on the first request
        if _SESSION_LOOKUP is None:
            _SESSION_LOOKUP = _session_lookup()
        row = db.session.execute(_SESSION_LOOKUP, {"token_hash": sessions.hash_token(token)}).first()
    elif row[0] is None:
        row = None
    auth_session, g.login_has_other_accounts = row if row is not None else (None, False)
    now = utcnow()
    if (
        auth_session is None
        or auth_session.revoked_at is not None
        or auth_session.reseller_id != g.reseller.id
        or auth_session.expires_at <= now
    ):
        session.pop(sessions.SESSION_KEY, None)
        if session.get("return_sid"):
            # An impersonation that expired (or was revoked): back to the staff session,
            # when that one is still alive and not idle.
            return impersonation.after_lapse(auth_session)
        if auth_session is not None and auth_session.reseller_id == g.reseller.id:
            _tell_ended(expired=auth_session.revoked_at is None)
        return None
    if auth_session.impersonator_account_id is not None:
        # The staff member's own session and rights hold the impersonation up.
        ended = impersonation.check_still_allowed(auth_session, now)
        if ended is not None:
            return ended
    account = auth_session.account
    staff_at_keyboard = auth_session.impersonator_account_id is not None or (
        account is not None and account.kind == STAFF
    )
    idle = sessions.limits(g.reseller, staff=staff_at_keyboard)[0]
    # Membership and the account's state are checked on every request: a session whose
    # account left the login, was deactivated or whose client is gone ends here.
    usable = (
        account is not None
        and account.login_id == auth_session.login_id
        and account.reseller_id == auth_session.reseller_id
        and account.is_usable()
    )
    if not usable or now - auth_session.last_seen_at > idle:
        auth_session.revoked_at = now
        db.session.commit()
        session.pop(sessions.SESSION_KEY, None)
        _tell_ended(expired=usable)  # usable, so it idled out
        return
    if now - auth_session.last_seen_at > sessions.TOUCH_EVERY:
        auth_session.last_seen_at = now
        db.session.commit()
    sessions.bind_request(auth_session)


# Why the session ended, kept in the cookie by a request that renders no page, for the
# next one that does.
_ENDED_KEY = "session_ended_expired"


def _renders_page() -> bool:
    """Whether this request's answer is a page the person sees: a GET that is not htmx
    and takes HTML (a request naming no type, as a script's, counts). The live stream
    (``text/event-stream``), an htmx call (its 401 makes ``static/app/app.js`` load the
    page again) and a JSON client see none."""
    accept = request.accept_mimetypes
    return (
        request.method == "GET"
        and not request.headers.get("HX-Request")
        and (not accept or accept.accept_html)
    )


def _tell_ended(*, expired: bool) -> None:
    """Why this browser is logged out, for the page it lands on (the login page): its
    session expired (the absolute or idle limit), or was ended elsewhere (another
    device's "end other sessions", a password change, the account deactivated). A
    request that renders no page leaves it for the next one that does: a flash would
    be taken by whatever it loads next (an event stream following its redirect to the
    login page) or shown out of place."""
    if not _renders_page():
        session[_ENDED_KEY] = expired
        return
    if expired:
        flash(_("Your session expired; log in again."), "info")
    else:
        flash(_("Your session was ended on another device."), "warning")


@login_manager.request_loader
def load_user_from_request(_request):
    """Flask-Login's loader: the account of this request's server-side session (looked
    up once per request; a response it calls for waits in ``g.session_response``)."""
    if "session_resolved" not in g:
        g.session_resolved = True
        g.session_response = load_request_session()
    return g.get("current_account")


def resolve_request_user():
    """before_request: load ``current_user`` now, so an ended session (or a lapsed
    "log in as") is dealt with before any view runs."""
    current_user._get_current_object()
    if "session_resolved" not in g:
        # Flask-Login answered from elsewhere (a stray remember-me cookie): ours decides.
        load_user_from_request(None)
        g.pop("_login_user", None)
    return g.pop("session_response", None)


def session_alive(session_id: int, reseller_id: int) -> tuple[Account, datetime] | None:
    """For a response that outlives its request (the workspace's live stream): the
    session's account while the checks of :func:`load_request_session` still pass
    (not revoked, expired or idle; the account usable; for "log in as", the staff
    session beneath it alive and the staff still allowed to), with the moment it
    expires or idles out unless used meanwhile; else ``None``. Reads only: it neither
    ends nor touches the session (a stream is no activity)."""
    row = db.session.get(AuthSession, session_id, populate_existing=True)
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.reseller_id != reseller_id:
        return None
    account = row.account
    if account is None or account.login_id != row.login_id or not account.is_usable():
        return None
    acting = row.impersonator_account_id is not None
    idle = sessions.limits(db.session.get(Reseller, reseller_id), staff=acting or account.kind == STAFF)[0]
    if now - row.last_seen_at > idle:
        return None
    if acting and not (
        impersonation.staff_session_holds(row, now)
        and row.impersonator.role is not None
        and row.impersonator.role.grants(perm.LOG_IN_AS)
    ):
        return None
    return account, min(row.expires_at, row.last_seen_at + idle)

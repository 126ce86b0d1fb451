"""Authentication rules: passwords, server-side sessions and permission checks."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache, wraps

from flask import abort, current_app, g, has_app_context, has_request_context, request, session
from sqlalchemy import or_, select, update
from werkzeug.local import LocalProxy
from werkzeug.security import check_password_hash, generate_password_hash

from auth.models import CLIENT_USER, STAFF, Account, AuthSession, Login
from core import audit
from core.access import public  # noqa: F401 - re-exported for views
from core.extensions import db
from core.tenancy import set_client_scope
from core.timeutil import utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 128
STAFF_IDLE = timedelta(minutes=30)
STAFF_ABSOLUTE = timedelta(hours=12)
USER_IDLE = timedelta(days=14)
USER_ABSOLUTE = timedelta(days=30)
# Touch last_seen_at at most this often, so reads do not become writes.
TOUCH_EVERY = timedelta(seconds=60)
SESSION_KEY = "sid"

@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both answers take similar time
    (made on first use: nothing is computed at import time)."""
    return generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise :class:`PasswordRejected` unless the password meets the policy."""
    from flask_babel import gettext as _

    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(_("Use at least %(n)d characters.", n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(_("Use at most %(n)d characters.", n=MAX_PASSWORD))
    from auth import breached_passwords

    lowered = password.lower()
    if breached_passwords.is_breached(password) or (email and lowered == email.lower()):
        raise PasswordRejected(_("This password is too common. Choose another one."))
    # Optional k-anonymity check against a range API; None (down, slow, broken) lets the
    # local corpus alone decide, so an outage never blocks a password change.
    url = current_app.config.get("PWNED_PASSWORDS_URL") if has_app_context() else None
    if url and breached_passwords.pwned_count(password, url):
        raise PasswordRejected(_("This password is too common. Choose another one."))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_login(reseller_id: int, email: str, password: str) -> Login | None:
    """The login of this reseller with this e-mail and password, else ``None``."""
    login = db.session.scalar(
        select(Login).where(Login.reseller_id == reseller_id, Login.email == normalise_email(email))
    )
    if login is None or not login.password_hash:
        check_password_hash(_dummy_hash(), password)
        return None
    if len(password) > MAX_PASSWORD * 4:
        return None
    return login if check_password_hash(login.password_hash, password) else None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def usable_accounts(login: Login) -> list[Account]:
    accounts = db.session.scalars(
        select(Account)
        .where(Account.login_id == login.id, Account.active.is_(True))
        .order_by(Account.kind.desc(), Account.id)
    ).all()
    return [a for a in accounts if a.is_usable()]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    account: Account,
    *,
    impersonator: Account | None = None,
    minutes: int | None = None,
    keep_current: bool = False,
    expires_at=None,
) -> AuthSession:
    """Open a new server-side session for ``account`` and rotate the cookie.

    The current session ends, unless ``keep_current`` (an impersonation starting on
    top of the staff session, which resumes afterwards and becomes its parent).
    """
    parent = g.get("auth_session") if keep_current else None
    if keep_current:
        g.auth_session = None
        g.current_account = None
    else:
        end_current_session(audit_it=False)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    if impersonator is not None:
        expires = now + timedelta(minutes=minutes or 60)
    elif expires_at is not None:
        expires = expires_at
    else:
        expires = now + (STAFF_ABSOLUTE if account.kind == STAFF else USER_ABSOLUTE)
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
        if audit_it:
            audit.record("auth.logout", current.account)
    session.pop(SESSION_KEY, None)
    g.auth_session = None
    g.current_account = None


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
    result = db.session.execute(
        update(AuthSession)
        .where(
            AuthSession.revoked_at.is_(None),
            or_(AuthSession.id.in_(chosen), AuthSession.parent_session_id.in_(chosen), *also),
        )
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def bind_request(auth_session: AuthSession) -> None:
    """Make ``auth_session`` the current request's: its account, actor and client scope."""
    account = auth_session.account
    g.auth_session = auth_session
    g.current_account = account
    g.subject_account_id = account.id
    g.actor_account_id = auth_session.impersonator_account_id or account.id
    g.actor_label = account.login.email
    set_client_scope(account.client_id if account.kind == CLIENT_USER else None)


def _get_current_account() -> Account | None:
    return g.get("current_account") if has_request_context() else None


current_account: Account = LocalProxy(_get_current_account)  # type: ignore[assignment]


def has_permission(permission: str) -> bool:
    """The one place that answers "may the current request do this?".

    While impersonating, the answer is the impersonated user's, never the staff
    member's (the session's account *is* the user; the actor is only recorded).
    """
    account = _get_current_account()
    if account is None:
        return False
    if account.kind == STAFF:
        return account.role is not None and account.role.grants(permission)
    return permission in (account.permissions or [])


def require_permission(permission: str):
    """Decorator: 403 unless the current account has ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not has_permission(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def home_url_for(account: Account | None) -> str:
    if account is None:
        return "/login"
    return "/reseller/clients" if account.kind == STAFF else "/app/"


def enforce_login() -> None:
    """Login is required by default; views opt out with :func:`public`."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "is_public", False):
        return None
    if _get_current_account() is None:
        from flask import redirect, url_for

        from core.redirects import safe_local_target

        if request.headers.get("HX-Request"):
            abort(401)
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("auth.login", next=safe_local_target(here)))
    return None


__all__ = [
    "CLIENT_USER",
    "STAFF",
    "current_account",
    "has_permission",
    "require_permission",
    "public",
]


def find_login(reseller_id: int, email: str) -> Login | None:
    return db.session.scalar(
        select(Login).where(Login.reseller_id == reseller_id, Login.email == normalise_email(email))
    )


def ensure_login(reseller_id: int, email: str) -> tuple[Login, bool]:
    """The reseller's login for ``email``, created without a password when new.

    Returns ``(login, created)``; an existing login keeps its password.
    """
    login = find_login(reseller_id, email)
    if login is not None:
        return login, False
    login = Login(reseller_id=reseller_id, email=normalise_email(email))
    db.session.add(login)
    db.session.flush()
    return login, True


def add_client_user(*, reseller_id: int, client_id: int, email: str, name: str) -> Account:
    """Give ``email`` an account in a client, joining its login when one exists.

    New users start with chat level 6 and may view phone numbers (SPEC defaults).
    """
    from auth.permissions import DEFAULT_CHAT_LEVEL

    login, _created = ensure_login(reseller_id, email)
    existing = db.session.scalar(
        select(Account).where(Account.login_id == login.id, Account.client_id == client_id)
    )
    if existing is not None:
        return existing
    account = Account(
        reseller_id=reseller_id,
        login_id=login.id,
        client_id=client_id,
        kind=CLIENT_USER,
        name=name,
        chat_level=DEFAULT_CHAT_LEVEL,
        view_phones=True,
        permissions=[],
    )
    db.session.add(account)
    db.session.flush()
    return account


INVITE_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 3600
LINK_PURPOSES = {"invite": INVITE_MAX_AGE, "reset": RESET_MAX_AGE, "locked": RESET_MAX_AGE}


def _invite_serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-password-link")


def _password_fingerprint(login: Login) -> str:
    # Changes when the password is set, so a link works once.
    return hashlib.sha256((login.password_hash or "unset").encode()).hexdigest()[:16]


def password_link_token(login: Login, purpose: str = "invite") -> str:
    """A signed token that lets its holder set this login's password once.

    Invitations last 7 days; reset links (and the link sent when a login is locked
    after too many failures) last 1 hour.
    """
    if purpose not in LINK_PURPOSES:
        raise ValueError(purpose)
    return _invite_serializer().dumps({"l": login.id, "f": _password_fingerprint(login), "p": purpose})


def login_from_password_token(token: str, reseller_id: int) -> Login | None:
    from itsdangerous import BadSignature

    try:
        data, signed_at = _invite_serializer().loads(token, max_age=INVITE_MAX_AGE, return_timestamp=True)
    except BadSignature:
        return None
    max_age = LINK_PURPOSES.get(data.get("p", "invite"))
    if max_age is None or (utcnow() - signed_at.replace(tzinfo=None)).total_seconds() > max_age:
        return None
    login = db.session.get(Login, data.get("l"))
    if login is None or login.reseller_id != reseller_id or data.get("f") != _password_fingerprint(login):
        return None
    return login


def send_password_link(login: Login, *, purpose: str) -> None:
    """E-mail a link to choose a password (invitation, reset, or unlock after failures)."""
    from flask import render_template
    from flask_babel import gettext as _

    from core import mail
    from core.links import reseller_url
    from core.models import Reseller

    reseller = db.session.get(Reseller, login.reseller_id)
    link = reseller_url(reseller, "auth.set_password", token=password_link_token(login, purpose))
    subjects = {
        "invite": _("Your access to %(name)s", name=reseller.name),
        "reset": _("Choose a new password for %(name)s", name=reseller.name),
        "locked": _("Your access to %(name)s was locked", name=reseller.name),
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
    mail.send_mail(
        login.email, subjects[purpose], text, sender_name=reseller.name, reply_to=reseller.support_email
    )
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

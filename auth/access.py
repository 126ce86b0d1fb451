"""Who is asking and what they may do: the current account, the one permission
check (which knows about impersonation), login required by default, and the home
pages that the packages above register (auth names no URL of theirs)."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, has_request_context, redirect, request, url_for
from flask_login import LoginManager, current_user
from werkzeug.local import LocalProxy

from auth.models import CLIENT_USER, STAFF, Account
from core.access import public
from core.redirects import safe_local_target

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
# Our sessions are server-side and revocable (auth.sessions): no remember-me cookie, and
# no extra binding of the cookie to the IP or browser beyond what they check.
login_manager.session_protection = None

# kind of account -> {"home": endpoint, other page names: endpoints}
_HOMES: dict[str, dict[str, str]] = {}


def register_home(kind: str, endpoint: str, **pages: str) -> None:
    """Where accounts of ``kind`` land after logging in (``endpoint``), and other pages
    of theirs auth sends people to (e.g. ``client_users="reseller.client_users"``)."""
    _HOMES[kind] = {"home": endpoint, **pages}


def page_url(kind: str, page: str = "home", **values) -> str:
    return url_for(_HOMES[kind][page], **values)


def area_prefix(kind: str) -> str:
    """The URL prefix of the blueprint that holds the home of ``kind``."""
    blueprint = _HOMES[kind]["home"].partition(".")[0]
    return current_app.blueprints[blueprint].url_prefix or "/"


def home_url_for(account: Account | None) -> str:
    if account is None:
        return url_for("auth.login")
    return page_url(STAFF if account.kind == STAFF else CLIENT_USER)


def _get_current_account() -> Account | None:
    """Flask-Login's ``current_user`` when signed in, else ``None`` (falsy, unlike
    Flask-Login's anonymous user)."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if user is not None and user.is_authenticated else None


current_account: Account = LocalProxy(_get_current_account)  # type: ignore[assignment]


def is_impersonating() -> bool:
    """True while staff act as a client user in this request."""
    current = getattr(g, "auth_session", None) if has_request_context() else None
    return current is not None and current.impersonator_account_id is not None


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


def is_owner() -> bool:
    """True when the current account is staff holding the built-in Owner role (never
    while acting as a client user: the account is then the user)."""
    account = _get_current_account()
    if account is None or account.kind != STAFF or account.role is None:
        return False
    return bool(account.role.is_owner)


def require_owner(view):
    """Decorator: 403 unless the current account is an owner. For what decides where
    every e-mailed link points and how staff log in (hosts, the canonical address, the
    security settings): a staff member with "staff and settings" could otherwise send
    the owners' password links to a domain of their own."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_owner():
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def require_permission(permission: str):
    """Decorator: 403 unless the current account has ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not has_permission(permission):
                g.denied_permission = permission  # named in the audit log (core.audit)
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def enforce_login():
    """Login is required by default; views opt out with :func:`public`."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@login_manager.unauthorized_handler
def unauthorized():
    """Not signed in: 401 for htmx requests, else the login page, back here after."""
    if request.headers.get("HX-Request"):
        abort(401)
    here = request.full_path if request.query_string else request.path
    return redirect(url_for(login_manager.login_view, next=safe_local_target(here)))


__all__ = [
    "CLIENT_USER",
    "STAFF",
    "area_prefix",
    "current_account",
    "enforce_login",
    "has_permission",
    "home_url_for",
    "is_impersonating",
    "login_manager",
    "page_url",
    "public",
    "register_home",
    "require_permission",
]

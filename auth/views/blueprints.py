"""The two blueprints of auth (defined here only) and what their views share."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, request, session

from auth import identity, login_flow
from auth.access import is_impersonating

auth_bp = Blueprint("auth", __name__, template_folder="../templates")
account_bp = Blueprint("account", __name__, url_prefix="/account", template_folder="../templates")


def login_key() -> str:
    """Flask-Limiter key for per-account throttling: reseller + e-mail as typed."""
    email = identity.normalise_email(request.form.get("email", ""))[:254]
    reseller = g.get("reseller")
    return f"login:{reseller.id if reseller else '-'}:{email}"


def failed(response) -> bool:
    return bool(g.get("login_failed"))


def pending_login_key() -> str:
    """Flask-Limiter key for second-factor tries: the login being signed in."""
    pending = session.get(login_flow.PENDING_KEY) or {}
    return f"2fa:{pending.get('login_id', '-')}"


def own_login_only(view):
    """Refused while staff act as a client user (the impersonation deny-list)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        current = g.get("auth_session")
        if current is None:
            abort(401)
        if is_impersonating():
            abort(403)
        return view(*args, **kwargs)

    return wrapped

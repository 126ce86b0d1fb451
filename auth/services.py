"""Temporary re-export shim (issue 11): ``auth.services`` was split into
:mod:`auth.access`, :mod:`auth.identity`, :mod:`auth.passwords` and
:mod:`auth.sessions`. Only the pages of reseller/views and billing/views still import
from here (``current_account``, ``has_permission``, ``public``, ``require_permission``:
all :mod:`auth.access`); remove once they import auth.access."""

from auth.access import current_account, has_permission, home_url_for, public, require_permission
from auth.identity import add_client_user, ensure_login, find_login, normalise_email, usable_accounts
from auth.passwords import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    PasswordRejected,
    change_password,
    check_password_policy,
    hash_password,
    password_link_token,
    send_password_link,
    set_password,
    verify_login,
)
from auth.sessions import end_sessions, revoke_sessions, start_session

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "PasswordRejected",
    "add_client_user",
    "change_password",
    "check_password_policy",
    "current_account",
    "end_sessions",
    "ensure_login",
    "find_login",
    "has_permission",
    "hash_password",
    "home_url_for",
    "normalise_email",
    "password_link_token",
    "public",
    "require_permission",
    "revoke_sessions",
    "send_password_link",
    "set_password",
    "start_session",
    "usable_accounts",
    "verify_login",
]

"""Identity: logins (one per e-mail and reseller) and their accounts (staff, or a
user in a client): finding, creating and listing the usable ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from auth import devices
from auth.models import CLIENT_USER, Account, Login
from auth.permissions import DEFAULT_CHAT_LEVEL, DEFAULT_CLIENT_USER_PERMISSIONS
from core.extensions import db


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def usable_accounts(login: Login) -> list[Account]:
    """The login's accounts it may enter, each with its client, in one statement (the
    avatar menu of every page asks; an accountant's login has accounts in ~20 clients)."""
    accounts = db.session.scalars(
        select(Account)
        .options(joinedload(Account.client))
        .where(Account.login_id == login.id, Account.active.is_(True))
        .order_by(Account.kind.desc(), Account.id)
    ).all()
    return [a for a in accounts if a.is_usable()]


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

    New users start with chat level 6, may view phone numbers (SPEC defaults) and hold
    the default workspace permissions (the portal, issue 15).
    """
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
        permissions=list(DEFAULT_CLIENT_USER_PERMISSIONS),
    )
    db.session.add(account)
    db.session.flush()
    return account


def needs_code(login: Login, reseller) -> bool:
    """First login, or (when the reseller asks for it) a browser not trusted yet."""
    if login.verified_at is None:
        return True
    return bool(reseller.code_on_every_new_browser) and not devices.is_trusted(login, devices.browser_token())


__all__ = [
    "add_client_user",
    "ensure_login",
    "find_login",
    "needs_code",
    "normalise_email",
    "usable_accounts",
]

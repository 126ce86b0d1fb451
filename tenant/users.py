"""A client's users (accounts of logins inside the client): the rules shared by the
reseller panel (staff) and the workspace (client users who may manage users)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from auth import permissions as perm
from auth import services as auth_services
from auth.models import CLIENT_USER, Account, Login
from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.validation import clean_email
from tenant.models import Client


class ClientUserRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class EmailStanding:
    """What adding an e-mail to a client would do. Never says *which* clients."""

    login: Login | None
    in_this_client: bool = False
    other_clients: int = 0

    @property
    def joins_login(self) -> bool:
        return self.login is not None and not self.in_this_client


def email_standing(client: Client, email: str) -> EmailStanding:
    """Whether ``email`` already has a login in the client's reseller, and how many
    other (not deleted) clients it is a user of."""
    login = auth_services.find_login(client.reseller_id, email)
    if login is None:
        return EmailStanding(None)
    in_this_client = db.session.scalar(
        select(Account.id).where(Account.login_id == login.id, Account.client_id == client.id)
    )
    other_clients = db.session.scalar(
        select(func.count())
        .select_from(Account)
        .join(Client, Client.id == Account.client_id)
        .where(
            Account.login_id == login.id,
            Account.client_id != client.id,
            Client.reseller_id == client.reseller_id,
            Client.deleted_at.is_(None),
        )
    )
    return EmailStanding(login, in_this_client is not None, other_clients or 0)


def client_users_of(client: Client) -> list[Account]:
    """The client's users, active first, with their logins loaded (the list shows e-mails)."""
    return list(
        db.session.scalars(
            scoped_select(Account, reseller_id=client.reseller_id, client_id=client.id)
            .where(Account.kind == CLIENT_USER)
            .options(selectinload(Account.login))
            .order_by(Account.active.desc(), Account.name, Account.id)
        )
    )


def client_user_or_none(client: Client, account_id: int) -> Account | None:
    """A user of this client (and so of its reseller), else ``None``."""
    return db.session.scalar(
        scoped_select(Account, reseller_id=client.reseller_id, client_id=client.id).where(
            Account.id == account_id, Account.kind == CLIENT_USER
        )
    )


def _check_profile(name: str, chat_level: int) -> dict[str, str]:
    from flask_babel import gettext as _

    errors = {}
    if not name or len(name) > 120:
        errors["name"] = _("Enter a name of at most 120 characters.")
    if chat_level not in perm.CHAT_LEVELS:
        errors["chat_level"] = _("Choose a chat level from 1 to 6.")
    return errors


def add_client_user(
    client: Client,
    *,
    name: str,
    email: str,
    chat_level: int = perm.DEFAULT_CHAT_LEVEL,
    view_phones: bool = True,
    initial_password: str | None = None,
) -> tuple[Account, str]:
    """Add a user to ``client``; returns the account and how it got access.

    An e-mail that already has a login in this reseller joins it (``"joined"``): it
    keeps its password and none is set here (a login that never chose one gets an
    invitation: ``"joined_invited"``). A new login gets either ``initial_password`` (``"password"``; policy
    checked, and the first login still asks for the e-mailed code) or an invitation
    link (``"invited"``, mailed once the transaction commits).
    Raises :class:`ClientUserRejected` with nothing changed.
    """
    from flask_babel import gettext as _

    name = (name or "").strip()
    errors = _check_profile(name, chat_level)
    address = clean_email(email)
    standing = EmailStanding(None)
    if address is None:
        errors["email"] = _("Enter a valid e-mail address.")
    else:
        standing = email_standing(client, address)
        if standing.in_this_client:
            errors["email"] = _("This e-mail is already a user of this client.")
        elif standing.login is None and initial_password is not None:
            try:
                auth_services.check_password_policy(initial_password, email=address)
            except auth_services.PasswordRejected as exc:
                errors["password"] = str(exc)
    if errors:
        raise ClientUserRejected(errors)

    account = auth_services.add_client_user(
        reseller_id=client.reseller_id, client_id=client.id, email=address, name=name
    )
    account.chat_level = chat_level
    account.view_phones = view_phones
    login = account.login
    if standing.login is not None:
        outcome = "joined"
        if not login.password_hash:
            # Invited elsewhere but never chose a password: the link is its only way in.
            outcome = "joined_invited"
            auth_services.send_password_link(login, purpose="invite")
        audit.record("client_user.joined_login", account, details={"login_id": login.id, "access": outcome})
    else:
        if initial_password is not None:
            outcome = "password"
            auth_services.set_password(login, initial_password)
        else:
            outcome = "invited"
            auth_services.send_password_link(login, purpose="invite")
        audit.record("client_user.created", account, details={"access": outcome})
    return account, outcome


def update_client_user(
    account: Account,
    *,
    name: str,
    chat_level: int,
    view_phones: bool,
    permissions: list[str] | None = None,
) -> None:
    """Change a user's name and permissions (never its e-mail, login or client).

    ``permissions`` (workspace permissions such as *manage users*) is left as it is
    when ``None``; unknown names are refused.
    """
    from flask_babel import gettext as _

    name = (name or "").strip()
    errors = _check_profile(name, chat_level)
    if permissions is not None and not set(permissions) <= set(perm.CLIENT_USER_PERMISSIONS):
        errors["permissions"] = _("Unknown permission.")
    if errors:
        raise ClientUserRejected(errors)
    new_permissions = (
        sorted(set(permissions)) if permissions is not None else sorted(account.permissions or [])
    )
    before = {
        "name": account.name,
        "chat_level": account.chat_level,
        "view_phones": account.view_phones,
        "permissions": sorted(account.permissions or []),
    }
    account.name, account.chat_level, account.view_phones = name, chat_level, view_phones
    account.permissions = new_permissions
    after = {
        "name": name,
        "chat_level": chat_level,
        "view_phones": view_phones,
        "permissions": new_permissions,
    }
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit.record("client_user.updated", account, details={"changed": changed})


def deactivate_client_user(account: Account) -> int:
    """Deactivate a user and end its sessions at once; returns how many ended."""
    if not account.active:
        return 0
    account.active = False
    ended = auth_services.revoke_sessions(account_id=account.id)
    audit.record("client_user.deactivated", account, details={"sessions_ended": ended})
    return ended


def reactivate_client_user(account: Account) -> None:
    """Let a deactivated user log in again (its old sessions stay ended)."""
    if account.active:
        return
    account.active = True
    audit.record("client_user.reactivated", account)

"""A client's users (accounts of logins inside the client): the rules shared by the
reseller panel (staff) and the workspace (client users who may manage users).

Every change names its *actor*. Staff of the client's reseller are not limited here
(their panel permission is checked by the panel). A client user grants at most what it
holds itself (:func:`grantable`): a chat level up to its own, *view phones* only when it
has it, workspace permissions only among its own; it never changes its own row, nor a
user who holds more than it does (that would let it lower a superior), and it cannot
reactivate a user the reseller's staff deactivated. While staff "log in as" a client
user the session's account *is* that user, so these limits bind the impersonator too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from auth import identity, passwords, sessions
from auth import permissions as perm
from auth.models import CLIENT_USER, Account, Login
from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.validation import clean_email
from tenant import invitations, live
from tenant.models import Client


class ClientUserRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ClientUserForbidden(PermissionError):
    """The actor may not make this change at all (nothing was saved); the message says why."""


@dataclass(frozen=True)
class Grant:
    """The most an actor may give a client user (and the most a user it changes may hold)."""

    max_chat_level: int
    view_phones: bool
    permissions: frozenset[str]
    unlimited: bool = False

    def covers(self, chat_level: int, view_phones: bool, permissions) -> bool:
        return (
            chat_level <= self.max_chat_level
            and (self.view_phones or not view_phones)
            and set(permissions or []) <= self.permissions
        )

    def refusals(self, chat_level: int, view_phones: bool, permissions) -> dict[str, str]:
        """Why these values exceed the grant, by form field (empty when they do not)."""
        errors = {}
        if chat_level > self.max_chat_level:
            errors["chat_level"] = _("You can grant at most chat level %(n)d.", n=self.max_chat_level)
        if view_phones and not self.view_phones:
            errors["view_phones"] = _("You cannot grant phone numbers you may not view yourself.")
        if not set(permissions or []) <= self.permissions:
            errors["permissions"] = _("You can only grant permissions you have yourself.")
        return errors


STAFF_GRANT = Grant(max(perm.CHAT_LEVELS), True, frozenset(perm.CLIENT_USER_PERMISSIONS), unlimited=True)
NOTHING = Grant(0, False, frozenset())


def grantable(actor: Account, client: Client) -> Grant:
    """What ``actor`` may grant to the users of ``client``: everything for the staff of
    its reseller, at most what it holds for a user of the client who may manage users,
    nothing for anyone else."""
    if actor.reseller_id != client.reseller_id:
        return NOTHING
    if actor.is_staff:
        return STAFF_GRANT
    if actor.client_id != client.id or perm.MANAGE_USERS not in (actor.permissions or []):
        return NOTHING
    return Grant(
        actor.chat_level,
        bool(actor.view_phones),
        frozenset(actor.permissions or []) & frozenset(perm.CLIENT_USER_PERMISSIONS),
    )


def holds_more(grant: Grant, account: Account) -> bool:
    """Whether ``account`` has something the grant does not reach."""
    return not grant.covers(account.chat_level, account.view_phones, account.permissions)


def change_refusal(actor: Account, account: Account) -> str | None:
    """Why ``actor`` may not edit, deactivate or reactivate ``account`` (``None``: it may)."""
    grant = grantable(actor, account.client)
    if grant.unlimited:
        return None
    if grant is NOTHING:
        return _("You may not manage this client's users.")
    if account.id == actor.id:
        return _("You cannot change your own user: ask another manager or the reseller.")
    if holds_more(grant, account):
        return _("This user has permissions you do not have, so you cannot change them.")
    return None


def reactivation_refusal(actor: Account, account: Account) -> str | None:
    """Why ``actor`` may not reactivate ``account``: also, only staff undo staff's deactivation."""
    refusal = change_refusal(actor, account)
    if refusal is None and account.deactivated_by_staff and not actor.is_staff:
        refusal = _("Deactivated by the reseller: only the reseller can reactivate this user.")
    return refusal


def _check_change(actor: Account, account: Account, refusal: str | None = None) -> None:
    refusal = refusal or change_refusal(actor, account)
    if refusal is not None:
        raise ClientUserForbidden(refusal)


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
    login = identity.find_login(client.reseller_id, email)
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


def assignable_users(client: Client) -> list[Account]:
    """The client's users who can be given a conversation, a team or the client itself
    (its responsible user): active, and having accepted (an invited login's owner has
    not agreed to anything yet)."""
    return list(
        db.session.scalars(
            scoped_select(Account, reseller_id=client.reseller_id, client_id=client.id)
            .where(
                Account.kind == CLIENT_USER,
                Account.active.is_(True),
                Account.awaiting_acceptance.is_(False),
            )
            .order_by(Account.name)
        )
    )


def client_user_or_none(client: Client, account_id: int) -> Account | None:
    """A user of this client (and so of its reseller), else ``None``."""
    return db.session.scalar(
        scoped_select(Account, reseller_id=client.reseller_id, client_id=client.id).where(
            Account.id == account_id, Account.kind == CLIENT_USER
        )
    )


def client_user_with_client(reseller_id: int, client_id: int, account_id: int) -> Account | None:
    """A user of the reseller's client ``client_id`` (not deleted), loaded with its client
    and its login in one statement ("log in as": the session's actor label is the login's
    e-mail), else ``None``."""
    return db.session.scalar(
        scoped_select(Account, reseller_id=reseller_id, client_id=client_id)
        .join(Client, Client.id == Account.client_id)
        .where(Account.id == account_id, Account.kind == CLIENT_USER)
        .where(Client.reseller_id == reseller_id, Client.deleted_at.is_(None))
        .options(contains_eager(Account.client), joinedload(Account.login))
    )


def _check_profile(name: str, chat_level: int, permissions: list[str]) -> dict[str, str]:
    errors = {}
    if not name or len(name) > 120:
        errors["name"] = _("Enter a name of at most 120 characters.")
    if chat_level not in perm.CHAT_LEVELS:
        errors["chat_level"] = _("Choose a chat level from 1 to 6.")
    if not set(permissions) <= set(perm.CLIENT_USER_PERMISSIONS):
        errors["permissions"] = _("Unknown permission.")
    return errors


def add_user_to_client(
    client: Client,
    *,
    actor: Account,
    name: str,
    email: str,
    chat_level: int = perm.DEFAULT_CHAT_LEVEL,
    view_phones: bool = True,
    permissions: list[str] | None = None,
    initial_password: str | None = None,
) -> tuple[Account, str]:
    """Add a user to ``client`` on behalf of ``actor``; returns the account and how it
    got access.

    A new login gets either ``initial_password`` (``"password"``; policy checked, and
    the first login still asks for the e-mailed code) or an invitation link
    (``"invited"``, mailed once the transaction commits). An e-mail that already has a
    login in this reseller keeps its password: added by staff it joins at once
    (``"joined"``, or ``"joined_invited"`` when the login never chose a password and
    gets the password link); added by a client user it is an invitation the login's
    owner accepts or declines (``"invitation"``: the account waits for acceptance).
    Raises :class:`ClientUserRejected` (or :class:`ClientUserForbidden`) with nothing changed.
    """
    grant = grantable(actor, client)
    if grant is NOTHING:
        raise ClientUserForbidden(_("You may not manage this client's users."))
    name = (name or "").strip()
    if permissions is None:
        # Not said: the defaults (the portal), as far as the actor may grant them.
        permissions = [p for p in perm.DEFAULT_CLIENT_USER_PERMISSIONS if p in grant.permissions]
    permissions = sorted(set(permissions))
    errors = _check_profile(name, chat_level, permissions)
    errors = {**grant.refusals(chat_level, view_phones, permissions), **errors}
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
                passwords.check_password_policy(initial_password, email=address)
            except passwords.PasswordRejected as exc:
                errors["password"] = str(exc)
    if errors:
        raise ClientUserRejected(errors)

    account = identity.add_client_user(
        reseller_id=client.reseller_id, client_id=client.id, email=address, name=name
    )
    account.chat_level = chat_level
    account.view_phones = view_phones
    live.account_changed(account.id)
    account.permissions = permissions
    login = account.login
    if standing.login is not None and not grant.unlimited:
        # Nobody finds a new account in their chooser unasked: the owner of the login decides.
        outcome = "invitation"
        account.awaiting_acceptance = True
        db.session.flush()
        invitations.send_invitation(account, inviter=actor)
        audit.record("client_user.invited_login", account, details={"login_id": login.id})
    elif standing.login is not None:
        outcome = "joined"
        if not login.password_hash:
            # Invited elsewhere but never chose a password: the link is its only way in.
            outcome = "joined_invited"
            passwords.send_password_link(login, purpose="invite")
        audit.record("client_user.joined_login", account, details={"login_id": login.id, "access": outcome})
    else:
        if initial_password is not None:
            outcome = "password"
            passwords.set_password(login, initial_password)
        else:
            outcome = "invited"
            passwords.send_password_link(login, purpose="invite")
        audit.record("client_user.created", account, details={"access": outcome})
    return account, outcome


def update_client_user(
    account: Account,
    *,
    actor: Account,
    name: str,
    chat_level: int,
    view_phones: bool,
    permissions: list[str] | None = None,
) -> None:
    """Change a user's name and permissions (never its e-mail, login or client).

    ``permissions`` (workspace permissions such as *manage users*) is left as it is
    when ``None``; unknown names are refused. A client user as ``actor`` changes
    neither itself nor a user who holds more than it, and grants at most what it holds.
    """
    _check_change(actor, account)
    name = (name or "").strip()
    new_permissions = (
        sorted(set(permissions)) if permissions is not None else sorted(account.permissions or [])
    )
    errors = _check_profile(name, chat_level, new_permissions)
    grant = grantable(actor, account.client)
    errors = {**grant.refusals(chat_level, view_phones, new_permissions), **errors}
    if errors:
        raise ClientUserRejected(errors)
    before = {
        "name": account.name,
        "chat_level": account.chat_level,
        "view_phones": account.view_phones,
        "permissions": sorted(account.permissions or []),
    }
    account.name, account.chat_level, account.view_phones = name, chat_level, view_phones
    live.account_changed(account.id)
    account.permissions = new_permissions
    after = {
        "name": name,
        "chat_level": chat_level,
        "view_phones": view_phones,
        "permissions": new_permissions,
    }
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit.record("client_user.updated", account, details={"changed": changed})


def deactivate_client_user(account: Account, *, actor: Account) -> int:
    """Deactivate a user and end its sessions at once; returns how many ended.

    Deactivated by staff, only staff can reactivate it; a client user cannot
    deactivate itself.
    """
    if account.id == actor.id:
        raise ClientUserForbidden(_("You cannot deactivate yourself."))
    _check_change(actor, account)
    if not account.active:
        if actor.is_staff and not account.deactivated_by_staff:
            # Staff take over a deactivation a client's manager made: only staff lift it now.
            account.deactivated_by_staff = True
            audit.record("client_user.deactivation_kept_by_staff", account)
        return 0
    account.active = False
    account.deactivated_by_staff = actor.is_staff
    ended = sessions.revoke_sessions(account_id=account.id)
    audit.record("client_user.deactivated", account, details={"sessions_ended": ended})
    return ended


def reactivate_client_user(account: Account, *, actor: Account) -> None:
    """Let a deactivated user log in again (its old sessions stay ended)."""
    _check_change(actor, account, reactivation_refusal(actor, account))
    if account.active:
        return
    account.active = True
    account.deactivated_by_staff = False
    audit.record("client_user.reactivated", account)

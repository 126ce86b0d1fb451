"""A client's users through the API: the rules of ``tenant.users`` (what may be granted,
the e-mail's standing, the invitation, deactivation ending the sessions), with the API
client acting for its reseller as the reseller's staff do; their refusals as problems."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from api.conventions import iso
from api.problems import Problem
from auth import permissions as perm
from auth.models import CLIENT_USER, Account
from core.extensions import db
from core.tenancy import scoped_select
from tenant import users as user_rules
from tenant.models import Client

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class ResellerActor:
    """The API client as the actor of ``tenant.users``: the reseller's own, so it grants
    what the reseller's staff grant (never another reseller's users: ``grantable``)."""

    reseller_id: int
    id: None = None
    client_id: None = None
    is_staff: bool = True
    permissions: tuple = ()


def user_json(account: Account) -> dict:
    return {
        "id": account.id,
        "client_id": account.client_id,
        "name": account.name,
        "email": account.email,
        "chat_level": account.chat_level,
        "view_phones": bool(account.view_phones),
        "permissions": sorted(account.permissions or []),
        "is_active": bool(account.active),
        "deactivated_by_staff": bool(account.deactivated_by_staff),
        "awaiting_acceptance": bool(account.awaiting_acceptance),
        "created_at": iso(account.created_at),
        "last_login_at": iso(account.last_login_at),
    }


def _users(client: Client):
    return scoped_select(Account, reseller_id=client.reseller_id, client_id=client.id).where(
        Account.kind == CLIENT_USER
    )


def list_page(client: Client, limit: int, starting_after: int | None) -> tuple[list[Account], bool]:
    """Up to ``limit`` users of the client in id order after ``starting_after``."""
    stmt = _users(client)
    if starting_after is not None:
        if user_rules.client_user_or_none(client, starting_after) is None:
            raise Problem(
                422, "invalid_parameter", _("No user of this client has this id."), param="starting_after"
            )
        stmt = stmt.where(Account.id > starting_after)
    rows = list(db.session.scalars(stmt.order_by(Account.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _refused(exc: user_rules.ClientUserRejected) -> Problem:
    name, message = next(iter(exc.errors.items()))
    return Problem(422, "invalid_parameter", message, param=name)


def create(client: Client, values: dict) -> tuple[Account, str]:
    """A new user (an invitation to choose a password is mailed; an e-mail with a login
    in this reseller joins it), with the seed's default permissions unless told."""
    try:
        account, outcome = user_rules.add_user_to_client(
            client,
            actor=ResellerActor(client.reseller_id),
            name=values.get("name", ""),
            email=values.get("email", ""),
            chat_level=values.get("chat_level", perm.DEFAULT_CHAT_LEVEL),
            view_phones=values.get("view_phones", True),
            permissions=values.get("permissions", list(perm.DEFAULT_CLIENT_USER_PERMISSIONS)),
        )
        db.session.flush()
    except user_rules.ClientUserRejected as exc:
        db.session.rollback()
        raise _refused(exc) from None
    except IntegrityError:
        # The same e-mail added twice at the same moment: the unique index decides.
        db.session.rollback()
        raise Problem(
            422, "invalid_parameter", _("This e-mail is already a user of this client."), param="email"
        ) from None
    return account, outcome


def update(account: Account, values: dict) -> None:
    """The fields given changed, the others kept (never the e-mail, login or client)."""
    try:
        user_rules.update_client_user(
            account,
            actor=ResellerActor(account.reseller_id),
            name=values.get("name", account.name),
            chat_level=values.get("chat_level", account.chat_level),
            view_phones=values.get("view_phones", account.view_phones),
            permissions=values.get("permissions"),
        )
    except user_rules.ClientUserRejected as exc:
        db.session.rollback()
        raise _refused(exc) from None


def deactivate(account: Account) -> int:
    return user_rules.deactivate_client_user(account, actor=ResellerActor(account.reseller_id))


def reactivate(account: Account) -> None:
    user_rules.reactivate_client_user(account, actor=ResellerActor(account.reseller_id))

"""Invitations to join a client with a login that already exists.

When a client user adds an e-mail that already has a login in the reseller (perhaps a
staff member's, perhaps a user of other clients), the new account waits for the
login's owner: it is not in their account chooser, cannot log in, be switched into or
be impersonated (``Account.is_usable``) until they accept. They are e-mailed a link
on the reseller's canonical URL; whoever holds it (the mailbox owner) accepts or
declines on a public page, whatever session the browser has. The link is signed,
expires after 7 days and works once: it is bound to the account, its login and its
creation, and only while the account still waits (declining deletes the account).
"""

from __future__ import annotations

import hashlib

from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from auth import passwords
from auth.models import CLIENT_USER, Account
from core import audit, branding, mail
from core.extensions import db
from core.links import reseller_url
from core.models import Reseller
from core.tenancy import scoped_select

INVITATION_MAX_AGE = 7 * 24 * 3600
ACCEPT = "accept"
DECLINE = "decline"


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="client-user-invitation")


def _fingerprint(account: Account) -> str:
    # Another account that reuses the id (SQLite reuses the highest one) is another invitation.
    raw = f"{account.id}:{account.login_id}:{account.client_id}:{account.created_at.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def invitation_token(account: Account, inviter: Account | None = None) -> str:
    """A signed token that lets its holder accept or decline this pending account once."""
    return _serializer().dumps(
        {
            "a": account.id,
            "l": account.login_id,
            "f": _fingerprint(account),
            "i": inviter.id if inviter is not None else None,
        }
    )


def pending_from_token(token: str, reseller_id: int) -> tuple[Account, Account | None] | None:
    """The account still waiting for acceptance that ``token`` was made for, in this
    reseller, and who invited (when still a user of that client); else ``None``."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    # Not scoped to the request's client: the link works whatever session the browser has.
    account = db.session.scalar(
        select(Account).where(
            Account.id == data.get("a"),
            Account.login_id == data.get("l"),
            Account.reseller_id == reseller_id,
            Account.kind == CLIENT_USER,
            Account.awaiting_acceptance.is_(True),
        )
    )
    if account is None or data.get("f") != _fingerprint(account) or account.client is None:
        return None
    if account.client.deleted_at is not None:
        return None
    inviter = None
    if data.get("i") is not None:
        inviter = db.session.scalar(
            scoped_select(Account, reseller_id=reseller_id, client_id=account.client_id).where(
                Account.id == data["i"]
            )
        )
    return account, inviter


@mail.in_product_language
def send_invitation(account: Account, *, inviter: Account) -> None:
    """E-mail the login's owner the link to accept or decline (after commit)."""
    reseller = db.session.get(Reseller, account.reseller_id)
    link = reseller_url(reseller, "invitations.answer", token=invitation_token(account, inviter))
    text = render_template(
        "tenant/mail/invitation.txt",
        reseller=reseller,
        client=account.client,
        inviter=inviter,
        email=account.login.email,
        link=link,
        days=INVITATION_MAX_AGE // 86400,
    )
    mail.send_mail(
        account.login.email,
        _("Invitation to join %(client)s", client=account.client.trade_name),
        text,
        **branding.mail_identity(reseller),
    )


def accept(account: Account) -> None:
    """The login's owner accepts: the account opens (and a login that never chose a
    password is sent the link to choose one)."""
    account.awaiting_acceptance = False
    audit.record(
        "client_user.invitation_accepted",
        account,
        details={"login_id": account.login_id},
        actor_label=account.login.email,
    )
    if not account.login.password_hash:
        passwords.send_password_link(account.login, purpose="invite")


def decline(account: Account) -> None:
    """The login's owner declines: the waiting account is deleted (it never opened)."""
    audit.record(
        "client_user.invitation_declined",
        account,
        details={"login_id": account.login_id},
        actor_label=account.login.email,
    )
    db.session.execute(delete(Account).where(Account.id == account.id, Account.awaiting_acceptance.is_(True)))
    db.session.expunge(account)

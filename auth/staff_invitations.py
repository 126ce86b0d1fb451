"""Staff invitations: the e-mailed link that brings a new staff member in.

An invitation makes (or reuses) the e-mail's login and adds a staff account to it that
waits for acceptance (``Account.awaiting_acceptance``: it cannot log in meanwhile). The
link, on the reseller's canonical URL, carries a random token of which only the hash is
stored (:class:`auth.models.StaffInvitation`); it works once, for 7 days, and only while
it is the newest one sent (a resend revokes the one before; at most one a minute and
five a day). Accepting sets the password when the login has none (the policy of
:mod:`auth.passwords`); the staff member then logs in as usual, second factor included
when the reseller requires it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select, update

from auth import identity, passwords, sessions, staff
from auth.models import STAFF, Account, Role, StaffInvitation
from core import audit, mail
from core.extensions import db
from core.links import reseller_url
from core.models import Reseller
from core.timeutil import utcnow
from core.validation import clean_email

INVITATION_LIFETIME = timedelta(days=7)
RESEND_INTERVAL = timedelta(seconds=60)
SENDS_PER_DAY = 5


def invite(reseller: Reseller, actor: Account, *, email: str, name: str, role: Role) -> Account:
    """Add a staff account for ``email`` waiting for acceptance, and e-mail the link.

    An e-mail whose login already exists here (a client user, say) keeps its login and
    password; one that is already staff (active, invited or deactivated) is refused."""
    address = clean_email(email)
    if address is None:
        raise staff.StaffRejected({"email": _("Enter a valid e-mail address.")})
    name = staff.clean_name(name)
    if role.reseller_id != reseller.id:
        raise staff.StaffRejected({"role": _("Choose a role from the list.")})
    staff.check_role_grant(actor, role)
    login = identity.find_login(reseller.id, address)
    existing = (
        db.session.scalar(select(Account).where(Account.login_id == login.id, Account.kind == STAFF))
        if login is not None
        else None
    )
    if existing is not None:
        if not existing.active:
            message = _("%(email)s was deactivated: reactivate them from the list instead.", email=address)
        elif existing.awaiting_acceptance:
            message = _(
                "An invitation to %(email)s is already waiting: resend it from the list.", email=address
            )
        else:
            message = _("%(email)s is already on the team.", email=address)
        raise staff.StaffRejected({"email": message})
    login, _created = identity.ensure_login(reseller.id, address)
    account = Account(
        reseller_id=reseller.id,
        login_id=login.id,
        kind=STAFF,
        name=name,
        role_id=role.id,
        awaiting_acceptance=True,
        permissions=[],
    )
    db.session.add(account)
    db.session.flush()
    audit.record(
        "staff.invited", account, details={"before": None, "after": staff.snapshot(account), "email": address}
    )
    _send(reseller, account, actor)
    return account


def resend(account: Account, actor: Account) -> None:
    """A new link for a staff member who has not accepted yet (the previous one stops
    working); at most one a minute and five a day."""
    if not account.active or not account.awaiting_acceptance:
        raise staff.StaffRejected({"email": _("%(name)s has no invitation waiting.", name=account.name)})
    staff.check_manages(actor, account)
    now = utcnow()
    sent = db.session.scalars(
        select(StaffInvitation.created_at).where(
            StaffInvitation.account_id == account.id,
            StaffInvitation.created_at > now - timedelta(days=1),
        )
    ).all()
    if sent and now - max(sent) < RESEND_INTERVAL:
        wait = int((RESEND_INTERVAL - (now - max(sent))).total_seconds()) + 1
        raise staff.StaffRejected(
            {"email": _("Wait %(n)d seconds before sending the invitation again.", n=wait)}
        )
    if len(sent) >= SENDS_PER_DAY:
        raise staff.StaffRejected(
            {"email": _("The invitation was sent %(n)d times today: try again tomorrow.", n=len(sent))}
        )
    reseller = db.session.get(Reseller, account.reseller_id)
    audit.record("staff.invitation_resent", account, details={"sends_today": len(sent) + 1})
    _send(reseller, account, actor)


def _send(reseller: Reseller, account: Account, actor: Account) -> None:
    now = utcnow()
    db.session.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.account_id == account.id,
            StaffInvitation.revoked_at.is_(None),
            StaffInvitation.used_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffInvitation(
            reseller_id=account.reseller_id,
            account_id=account.id,
            invited_by_account_id=actor.id if actor is not None else None,
            token_hash=sessions.hash_token(token),
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    link = reseller_url(reseller, "auth.staff_invitation", token=token)
    text = render_template(
        "auth/mail/staff_invitation.txt",
        reseller=reseller,
        account=account,
        inviter=actor,
        role=account.role,
        email=account.login.email,
        has_password=bool(account.login.password_hash),
        link=link,
        days=INVITATION_LIFETIME.days,
    )
    mail.send_mail(
        account.login.email,
        _("Invitation to the %(name)s team", name=reseller.name),
        text,
        sender_name=reseller.name,
        reply_to=reseller.support_email,
    )


def invitation_from_token(token: str, reseller_id: int) -> StaffInvitation | None:
    """The invitation in force that ``token`` opens in this reseller, else ``None``
    (unknown, another reseller's, expired, used, replaced, or its account deactivated)."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(
        select(StaffInvitation).where(
            StaffInvitation.token_hash == sessions.hash_token(token),
            StaffInvitation.reseller_id == reseller_id,
        )
    )
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    account = invitation.account
    if account.kind != STAFF or not account.active or not account.awaiting_acceptance:
        return None
    return invitation


def accept(invitation: StaffInvitation, password: str | None = None) -> Account:
    """Accept the invitation (once: a second submission finds it used). A login without
    a password must choose one (:class:`auth.passwords.PasswordRejected` otherwise)."""
    account = invitation.account
    login = account.login
    if not login.password_hash:
        passwords.check_password_policy(password or "", email=login.email)
    claimed = db.session.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.id == invitation.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise staff.StaffRejected({"token": _("This invitation was already used.")})
    if not login.password_hash:
        passwords.set_password(login, password, proves_email=True)
    elif login.verified_at is None:
        login.verified_at = utcnow()  # the link came by e-mail: the address is proven
    account.awaiting_acceptance = False
    audit.record(
        "staff.invitation_accepted",
        account,
        details={"invitation_id": invitation.id},
        actor_label=login.email,
    )
    return account


__all__ = ["INVITATION_LIFETIME", "accept", "invitation_from_token", "invite", "resend"]

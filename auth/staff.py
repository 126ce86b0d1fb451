"""A reseller's staff: the list, editing, deactivating and reactivating (inviting and
accepting: :mod:`auth.staff_invitations`).

The rules that keep a reseller in hand:
- the last active owner is neither demoted nor deactivated;
- nobody changes their own role or deactivates themselves;
- roles are given only by someone who holds every permission in them, and only an
  owner makes, unmakes or deactivates an owner;
- deactivating ends at once every session of that staff account and every "log in as"
  it is doing (:func:`auth.sessions.revoke_sessions`), and voids its invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from auth import roles, sessions
from auth.models import Account, AuthSession, Login, Role, StaffInvitation
from auth.states import StaffStanding
from core import audit
from core.extensions import db
from core.timeutil import utcnow

MAX_NAME = 120


class StaffRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class StaffRow:
    account: Account
    status: StaffStanding
    last_seen: datetime | None
    two_step: bool
    invitation_expires: datetime | None


def status_of(account: Account, invitation: StaffInvitation | None, now: datetime) -> StaffStanding:
    if not account.active:
        return StaffStanding.DEACTIVATED
    if account.awaiting_acceptance:
        if invitation is None or invitation.expires_at <= now:
            return StaffStanding.INVITATION_EXPIRED
        return StaffStanding.INVITED
    return StaffStanding.ACTIVE


def staff_list(reseller_id: int) -> list[StaffRow]:
    """Every staff account of the reseller (name order), with status, last seen and
    whether its login has a second factor."""
    accounts = db.session.scalars(
        select(Account)
        .join(Login, Login.id == Account.login_id)
        .where(*Account.staff_of(reseller_id))
        .order_by(func.lower(Account.name), Account.id)
    ).all()
    ids = [a.id for a in accounts]
    seen: dict[int, datetime] = {}
    invitations: dict[int, StaffInvitation] = {}
    if ids:
        seen = dict(
            db.session.execute(
                select(AuthSession.account_id, func.max(AuthSession.last_seen_at))
                .where(AuthSession.reseller_id == reseller_id, AuthSession.account_id.in_(ids))
                .group_by(AuthSession.account_id)
            ).all()
        )
        for invitation in db.session.scalars(
            select(StaffInvitation)
            .where(
                StaffInvitation.account_id.in_(ids),
                StaffInvitation.revoked_at.is_(None),
                StaffInvitation.used_at.is_(None),
            )
            .order_by(StaffInvitation.created_at, StaffInvitation.id)
        ):
            invitations[invitation.account_id] = invitation  # the newest wins
    now = utcnow()
    rows = []
    for account in accounts:
        invitation = invitations.get(account.id) if account.awaiting_acceptance else None
        rows.append(
            StaffRow(
                account=account,
                status=status_of(account, invitation, now),
                last_seen=seen.get(account.id) or account.last_login_at,
                two_step=account.login.has_totp,
                invitation_expires=invitation.expires_at if invitation is not None else None,
            )
        )
    return rows


def active_owners(reseller_id: int, *, lock: bool = False) -> list[int]:
    """Ids of the usable staff accounts holding the Owner role (locked for the change)."""
    stmt = (
        select(Account.id)
        .join(Role, Role.id == Account.role_id)
        .where(
            *Account.staff_of(reseller_id),
            Account.active.is_(True),
            Account.awaiting_acceptance.is_(False),
            Role.is_owner.is_(True),
        )
        .order_by(Account.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Account)
    return list(db.session.scalars(stmt))


def _is_owner(account: Account | None) -> bool:
    return account is not None and account.role is not None and bool(account.role.is_owner)


def check_role_grant(actor: Account, role: Role, field: str = "role") -> None:
    if role.is_owner and not _is_owner(actor):
        raise StaffRejected({field: _("Only an owner can make someone an owner.")})
    if not role.effective_permissions <= roles.held_permissions(actor):
        raise StaffRejected({field: _("You can only give a role whose permissions you have yourself.")})


def check_manages(actor: Account, account: Account) -> None:
    """Whether ``actor`` may edit, deactivate or re-invite ``account``: only an owner
    manages an owner, and nobody manages a colleague holding a permission they do not
    hold themselves (else "staff and settings" alone could sideline anyone above it)."""
    if _is_owner(account) and not _is_owner(actor):
        raise StaffRejected({"role": _("Only an owner can change or deactivate an owner.")})
    held = account.role.effective_permissions if account.role is not None else set()
    if not held <= roles.held_permissions(actor):
        raise StaffRejected({"role": _("You can only manage staff whose permissions you have yourself.")})


def _check_not_last_owner(account: Account) -> None:
    if not _is_owner(account) or not account.active or account.awaiting_acceptance:
        return
    if active_owners(account.reseller_id, lock=True) == [account.id]:
        raise StaffRejected(
            {"role": _("%(name)s is the last active owner: make another owner first.", name=account.name)}
        )


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise StaffRejected({"name": _("Enter a name.")})
    if len(name) > MAX_NAME:
        raise StaffRejected({"name": _("Use at most %(n)d characters.", n=MAX_NAME)})
    return name


def snapshot(account: Account) -> dict:
    role = account.role
    return {
        "name": account.name,
        "role_id": account.role_id,
        "role": role.name if role is not None else None,
        "is_active": bool(account.active),
    }


def update_staff(account: Account, actor: Account, *, name: str, role: Role) -> bool:
    """Change a staff member's name and role; False when nothing changed. The new role
    applies from their next request."""
    name = clean_name(name)
    if role.reseller_id != account.reseller_id:
        raise StaffRejected({"role": _("Choose a role from the list.")})
    if account.id != actor.id:
        check_manages(actor, account)
    if role.id != account.role_id:
        if account.id == actor.id:
            raise StaffRejected({"role": _("You cannot change your own role.")})
        check_role_grant(actor, role)
        if not role.is_owner:
            _check_not_last_owner(account)
    before = snapshot(account)
    account.name, account.role_id = name, role.id
    account.role = role
    after = snapshot(account)
    if after == before:
        return False
    audit.record("staff.updated", account, details={"before": before, "after": after})
    if before["role_id"] != after["role_id"]:
        sessions.wake_impersonations(account_id=account.id)  # their open streams, if log in as went
    return True


def deactivate(account: Account, actor: Account) -> int:
    """Deactivate a staff member: every session of theirs and every "log in as" they
    are doing ends now, and a waiting invitation stops working. Returns how many
    sessions ended."""
    if account.id == actor.id:
        raise StaffRejected({"role": _("You cannot deactivate yourself.")})
    if not account.active:
        raise StaffRejected({"role": _("%(name)s is already deactivated.", name=account.name)})
    check_manages(actor, account)
    _check_not_last_owner(account)
    before = snapshot(account)
    account.active = False
    account.deactivated_by_staff = True
    db.session.execute(
        update(StaffInvitation)
        .where(StaffInvitation.account_id == account.id, StaffInvitation.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    ended = sessions.revoke_sessions(account_id=account.id)
    audit.record(
        "staff.deactivated",
        account,
        details={"before": before, "after": snapshot(account), "sessions_ended": ended},
    )
    return ended


def reactivate(account: Account, actor: Account) -> None:
    """Let a deactivated staff member in again (with the role they had, which the
    actor must be able to give). One who never accepted needs a new invitation."""
    if account.active:
        raise StaffRejected({"role": _("%(name)s is already active.", name=account.name)})
    check_manages(actor, account)
    if account.role is not None:
        check_role_grant(actor, account.role)
    before = snapshot(account)
    account.active = True
    account.deactivated_by_staff = False
    audit.record("staff.reactivated", account, details={"before": before, "after": snapshot(account)})


__all__ = [
    "check_role_grant",
    "clean_name",
    "StaffRejected",
    "StaffRow",
    "active_owners",
    "deactivate",
    "reactivate",
    "snapshot",
    "staff_list",
    "update_staff",
]

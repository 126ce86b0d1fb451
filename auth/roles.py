"""Staff roles: named sets of staff permissions inside one reseller.

The Owner role is built in (``Role.is_owner``): it holds every permission, present and
future, and is neither edited nor deleted. Nobody edits the role they hold (that would
change their own rights). Nobody grants through a role what they do
not hold themselves: a permission is added to a role only by someone who has it (the
owner has them all), so editing roles never raises anyone above the editor. A role in
use (any staff account holds it, deactivated ones included) is not deleted. Every
change is audited with the role before and after.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from auth import permissions as perm
from auth import sessions
from auth.models import STAFF, Account, Role
from core import audit
from core.extensions import db

MAX_NAME = 80


class RoleRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def held_permissions(actor: Account) -> set[str]:
    """The staff permissions ``actor`` holds (and so may put into a role)."""
    if actor is None or actor.kind != STAFF or actor.role is None:
        return set()
    return actor.role.effective_permissions


def snapshot(role: Role) -> dict:
    """What the audit log keeps of a role, before and after a change."""
    return {
        "name": role.name,
        "owner": bool(role.is_owner),
        "permissions": sorted(role.effective_permissions),
    }


def roles_with_use(reseller_id: int) -> list[tuple[Role, int]]:
    """The reseller's roles, Owner first then by name, each with how many staff hold it."""
    used = (
        select(Account.role_id, func.count(Account.id).label("n"))
        .where(*Account.staff_of(reseller_id))
        .group_by(Account.role_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Role, func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.role_id == Role.id)
        .where(Role.reseller_id == reseller_id)
        .order_by(Role.is_owner.desc(), func.lower(Role.name), Role.id)
    ).all()
    return [(role, count) for role, count in rows]


def role_of_reseller(reseller_id: int, role_id) -> Role | None:
    """The role ``role_id`` when it is one of this reseller's, else ``None``."""
    if role_id is None:
        return None
    return db.session.scalar(select(Role).where(Role.id == role_id, Role.reseller_id == reseller_id))


def staff_holding(role: Role) -> int:
    return db.session.scalar(
        select(func.count(Account.id)).where(
            Account.role_id == role.id, Account.reseller_id == role.reseller_id
        )
    )


def _clean(
    reseller_id: int, actor: Account, name: str, permissions, *, role: Role | None
) -> tuple[str, list]:
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Enter a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("Use at most %(n)d characters.", n=MAX_NAME)
    else:
        clash = db.session.scalar(
            select(Role.id).where(
                Role.reseller_id == reseller_id,
                func.lower(Role.name) == name.lower(),
                Role.id != (role.id if role is not None else -1),
            )
        )
        if clash is not None:
            errors["name"] = _("Another role is already called %(name)s.", name=name)
    chosen = set(permissions or [])
    if not chosen <= set(perm.STAFF_PERMISSIONS):
        errors["permissions"] = _("Choose permissions from the list.")
    else:
        before = set(role.permissions or []) if role is not None else set()
        if not (chosen - before) <= held_permissions(actor):
            errors["permissions"] = _("You can only add permissions you have yourself.")
    if errors:
        raise RoleRejected(errors)
    return name, sorted(chosen)


def create_role(reseller_id: int, actor: Account, name: str, permissions) -> Role:
    """A new role of the reseller with these permissions (checked, audited)."""
    name, chosen = _clean(reseller_id, actor, name, permissions, role=None)
    role = Role(reseller_id=reseller_id, name=name, is_owner=False, permissions=chosen)
    db.session.add(role)
    db.session.flush()
    audit.record("role.created", role, details={"before": None, "after": snapshot(role)})
    return role


def update_role(role: Role, actor: Account, name: str, permissions) -> bool:
    """Rename the role and set its permissions; False when nothing changed.

    Staff holding it have the new permissions from their next request on."""
    if role.is_owner:
        raise RoleRejected({"name": _("The Owner role is built in: it holds every permission.")})
    if actor.role_id == role.id:
        # Changing the role one holds changes one's own rights: somebody else does it.
        raise RoleRejected({"name": _("You hold this role: another staff member must change it.")})
    name, chosen = _clean(role.reseller_id, actor, name, permissions, role=role)
    before = snapshot(role)
    role.name, role.permissions = name, chosen
    after = snapshot(role)
    if after == before:
        return False
    audit.record("role.updated", role, details={"before": before, "after": after})
    sessions.wake_impersonations(role_id=role.id)  # their open streams, if log in as went
    return True


def delete_role(role: Role) -> None:
    """Delete a role nobody holds (refused, with the count, while in use)."""
    if role.is_owner:
        raise RoleRejected({"role": _("The Owner role is built in: it cannot be deleted.")})
    holders = staff_holding(role)
    if holders:
        raise RoleRejected(
            {
                "role": _(
                    "%(name)s is held by %(n)d staff member(s) (deactivated ones included): "
                    "give them another role first.",
                    name=role.name,
                    n=holders,
                )
            }
        )
    audit.record("role.deleted", role, details={"before": snapshot(role), "after": None})
    db.session.delete(role)


__all__ = [
    "RoleRejected",
    "create_role",
    "delete_role",
    "held_permissions",
    "role_of_reseller",
    "roles_with_use",
    "snapshot",
    "staff_holding",
    "update_role",
]

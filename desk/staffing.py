"""Which desks a staff member works: the scope of every queue and ticket page, and who
may be assigned a desk's tickets. The owner works every desk of the reseller."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from desk.models import DeskStaff


def works_every_desk(account) -> bool:
    return account.role is not None and bool(account.role.is_owner)


def staff_desk_ids(account) -> list[int] | None:
    """The ids of the desks ``account`` works; ``None``: every desk (the owner)."""
    if works_every_desk(account):
        return None
    return list(
        db.session.scalars(
            select(DeskStaff.desk_id).where(
                DeskStaff.account_id == account.id, DeskStaff.reseller_id == account.reseller_id
            )
        )
    )


def works_desk(account, desk_id: int) -> bool:
    desk_ids = staff_desk_ids(account)
    return desk_ids is None or desk_id in desk_ids


def is_desk_staff(account_id: int, desk_id: int) -> bool:
    """Whether the account is on the desk's staff list (who may be assigned its tickets)."""
    return (
        db.session.scalar(
            select(DeskStaff.account_id).where(
                DeskStaff.desk_id == desk_id, DeskStaff.account_id == account_id
            )
        )
        is not None
    )

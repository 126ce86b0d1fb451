"""Names a reseller gives its desks, SLA policies and calendars: one of each name."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db


def name_taken(model, reseller_id: int, name: str, own_id: int | None) -> bool:
    """Whether another row of ``model`` of the reseller has this name, whatever its case
    (compared here: SQLite's lower() knows ASCII only). A reseller has a few desks,
    policies and calendars."""
    names = db.session.execute(select(model.id, model.name).where(model.reseller_id == reseller_id))
    return any(row_id != own_id and other.casefold() == name.casefold() for row_id, other in names)

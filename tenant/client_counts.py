"""The client list's totals read from ``client_counts`` (kept by triggers, migration
0017) instead of counting every client, and the check that they still agree."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, insert, literal, select

from core.extensions import db
from tenant.models import Client, ClientCount

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountFilter:
    """The filters a total can be read for: each None is "any"."""

    inactivated: bool | None = False
    status: str | None = None
    plan_key: int | None = None  # 0: clients without a plan
    suspended: bool | None = None
    payment_type: str | None = None
    payment_status: str | None = None


def total_select(reseller_id: int, wanted: CountFilter) -> Select:
    """The number of the reseller's live clients matching ``wanted``: a sum over the few
    ``client_counts`` rows of those values."""
    stmt = select(func.coalesce(func.sum(ClientCount.clients), 0)).where(
        ClientCount.reseller_id == reseller_id
    )
    for name in ("inactivated", "status", "plan_key", "suspended", "payment_type", "payment_status"):
        value = getattr(wanted, name)
        if value is not None:
            stmt = stmt.where(getattr(ClientCount, name) == value)
    return stmt


def _key_columns(source=Client):
    return (
        source.reseller_id,
        source.inactivated_at.is_not(None),
        source.status,
        func.coalesce(source.plan_id, 0),
        source.suspended,
        func.coalesce(source.payment_type, literal("")),
        func.coalesce(source.payment_status, literal("")),
    )


_KEY_NAMES = (
    "reseller_id",
    "inactivated",
    "status",
    "plan_key",
    "suspended",
    "payment_type",
    "payment_status",
)


def _live_counts(reseller_id: int) -> dict[tuple, int]:
    key = _key_columns()
    rows = db.session.execute(
        select(*key, func.count())
        .where(Client.reseller_id == reseller_id, Client.deleted_at.is_(None))
        .group_by(*key)
    ).all()
    return {_normal(row[:-1]): row[-1] for row in rows}


def _kept_counts(reseller_id: int) -> dict[tuple, int]:
    columns = [getattr(ClientCount, name) for name in _KEY_NAMES]
    rows = db.session.execute(
        select(*columns, ClientCount.clients).where(
            ClientCount.reseller_id == reseller_id, ClientCount.clients != 0
        )
    ).all()
    return {_normal(row[:-1]): row[-1] for row in rows}


def _normal(key) -> tuple:
    reseller_id, inactivated, status, plan_key, suspended, payment_type, payment_status = key
    return (reseller_id, bool(inactivated), status, plan_key, bool(suspended), payment_type, payment_status)


def drift(reseller_id: int) -> dict[tuple, tuple[int, int]]:
    """Combinations whose kept total differs from the clients: {key: (kept, counted)}."""
    kept, live = _kept_counts(reseller_id), _live_counts(reseller_id)
    return {
        key: (kept.get(key, 0), live.get(key, 0))
        for key in kept.keys() | live.keys()
        if kept.get(key, 0) != live.get(key, 0)
    }


def repair(reseller_id: int) -> dict[tuple, tuple[int, int]]:
    """Rebuild the reseller's totals from its clients when they drifted (a trigger
    dropped by hand, a restore of one table); returns what had drifted."""
    drifted = drift(reseller_id)
    if drifted:
        log.warning("client totals of reseller %s drifted: %s", reseller_id, drifted)
        db.session.execute(delete(ClientCount).where(ClientCount.reseller_id == reseller_id))
        key = _key_columns()
        live = select(*key, func.count()).where(
            Client.reseller_id == reseller_id, Client.deleted_at.is_(None)
        )
        db.session.execute(insert(ClientCount).from_select([*_KEY_NAMES, "clients"], live.group_by(*key)))
    return drifted

"""A reseller's ticket statuses: the default set every reseller starts with, and the
names they show (the kind's translated label until the reseller renames one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from desk.models import TicketStatus
from desk.states import PAUSING_KINDS, StatusKind

# Each kind's built-in name, and what the client's portal shows for it.
KIND_LABELS = {
    StatusKind.NEW: _l("New"),
    StatusKind.OPEN: _l("In service"),
    StatusKind.WAITING_ON_CLIENT: _l("Waiting on client"),
    StatusKind.WAITING_ON_THIRD_PARTY: _l("Waiting on third party"),
    StatusKind.PENDING_REVIEW: _l("Pending review"),
    StatusKind.RESOLVED: _l("Resolved"),
    StatusKind.CLOSED: _l("Finished"),
    StatusKind.MERGED: _l("Merged"),
}
CLIENT_LABELS = {
    **KIND_LABELS,
    StatusKind.NEW: _l("Received"),
    StatusKind.OPEN: _l("In progress"),
    StatusKind.WAITING_ON_CLIENT: _l("Waiting for your reply"),
    StatusKind.WAITING_ON_THIRD_PARTY: _l("In progress"),
    StatusKind.PENDING_REVIEW: _l("Awaiting your review"),
}


def default_statuses(reseller_id: int) -> list[TicketStatus]:
    """One default status of each kind, in the kinds' order (unsaved)."""
    return [
        TicketStatus(
            reseller_id=reseller_id,
            kind=kind,
            pauses_sla=kind in PAUSING_KINDS,
            position=position,
            is_default=True,
        )
        for position, kind in enumerate(StatusKind)
    ]


def ensure_default_statuses(reseller_id: int) -> None:
    """Give the reseller its default set when it has no status yet (a new reseller)."""
    has_any = db.session.scalar(
        select(TicketStatus.id).where(TicketStatus.reseller_id == reseller_id).limit(1)
    )
    if has_any is None:
        db.session.add_all(default_statuses(reseller_id))
        db.session.flush()


def default_status(reseller_id: int, kind: StatusKind) -> TicketStatus:
    """The reseller's default status of ``kind``."""
    return db.session.scalars(
        select(TicketStatus).where(
            TicketStatus.reseller_id == reseller_id, TicketStatus.kind == kind, TicketStatus.is_default
        )
    ).one()


def status_name(status: TicketStatus) -> str:
    return status.name or str(KIND_LABELS[StatusKind(status.kind)])


def client_status_name(status: TicketStatus) -> str:
    """What the client sees: the client-facing name, else the kind's client label."""
    return status.client_name or str(CLIENT_LABELS[StatusKind(status.kind)])

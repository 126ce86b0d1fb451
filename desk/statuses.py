"""A reseller's ticket statuses: the default set every reseller starts with, the names
they show (the kind's translated label until the reseller renames one), and their
editing: names, what the client sees, the SLA pause, the default of each kind; a kind's
last status and a status tickets are in are not deleted."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from desk.errors import DeskRejected
from desk.models import TicketStatus
from desk.states import PAUSING_KINDS, Priority, StatusKind
from desk.ticket_models import Ticket

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
# How every page and report names a priority.
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
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


# --- the reseller's statuses page -------------------------------------------------------


def reseller_statuses(reseller_id: int) -> list[TicketStatus]:
    """The reseller's statuses in the kinds' order (a ticket's life), then as added."""
    order = {kind: n for n, kind in enumerate(StatusKind)}
    rows = db.session.scalars(select(TicketStatus).where(TicketStatus.reseller_id == reseller_id))
    return sorted(rows, key=lambda s: (order.get(s.kind, len(order)), s.position, s.id))


def snapshot(status: TicketStatus) -> dict:
    return {
        "kind": status.kind,
        "name": status.name,
        "client_name": status.client_name,
        "pauses_sla": status.pauses_sla,
        "is_default": status.is_default,
    }


def _clean_name(value: str | None, key: str, errors: dict) -> str | None:
    name = " ".join((value or "").split())
    if len(name) > 60:
        errors[key] = _("At most 60 characters.")
    return name or None


def _in_use(status: TicketStatus) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.reseller_id == status.reseller_id, Ticket.status_id == status.id)
    )


def add_status(reseller_id: int, kind: str, name: str, client_name: str = "", pauses_sla: bool = False):
    """A further status of ``kind`` (a name is required: it must tell them apart)."""
    errors: dict[str, str] = {}
    if kind not in tuple(StatusKind):
        errors["kind"] = _("Choose a kind.")
    cleaned = _clean_name(name, "name", errors)
    if cleaned is None and "name" not in errors:
        errors["name"] = _("The name is required.")
    client_cleaned = _clean_name(client_name, "client_name", errors)
    if errors:
        raise DeskRejected(errors)
    last = db.session.scalar(
        select(func.max(TicketStatus.position)).where(TicketStatus.reseller_id == reseller_id)
    )
    status = TicketStatus(
        reseller_id=reseller_id,
        kind=kind,
        name=cleaned,
        client_name=client_cleaned,
        pauses_sla=bool(pauses_sla),
        position=(last or 0) + 1,
        is_default=False,
    )
    db.session.add(status)
    db.session.flush()
    audit.record("ticket_status.created", status, details={"before": None, "after": snapshot(status)})
    return status


def update_status(status: TicketStatus, name: str, client_name: str, pauses_sla: bool) -> bool:
    """Rename the status, set what the client sees and whether it pauses the SLA clock."""
    errors: dict[str, str] = {}
    cleaned, client_cleaned = (
        _clean_name(name, "name", errors),
        _clean_name(client_name, "client_name", errors),
    )
    if errors:
        raise DeskRejected(errors)
    before = snapshot(status)
    status.name, status.client_name, status.pauses_sla = cleaned, client_cleaned, bool(pauses_sla)
    if snapshot(status) == before:
        return False
    audit.record("ticket_status.updated", status, details={"before": before, "after": snapshot(status)})
    return True


def make_default(status: TicketStatus) -> None:
    """The status tickets take when they reach its kind."""
    if status.is_default:
        return
    current = default_status(status.reseller_id, StatusKind(status.kind))
    current.is_default = False
    db.session.flush()  # one default per kind (a unique index)
    status.is_default = True
    audit.record("ticket_status.default", status, details={"before": current.id, "after": status.id})


def delete_status(status: TicketStatus) -> None:
    """Refused for the last status of its kind and for a status tickets are in."""
    same_kind = db.session.scalar(
        select(func.count())
        .select_from(TicketStatus)
        .where(TicketStatus.reseller_id == status.reseller_id, TicketStatus.kind == status.kind)
    )
    if same_kind <= 1:
        raise DeskRejected({"status": _("The last status of a kind cannot be deleted.")})
    used = _in_use(status)
    if used:
        raise DeskRejected({"status": _("%(n)d ticket(s) are in this status: it cannot be deleted.", n=used)})
    if status.is_default:
        heir = db.session.scalars(
            select(TicketStatus)
            .where(
                TicketStatus.reseller_id == status.reseller_id,
                TicketStatus.kind == status.kind,
                TicketStatus.id != status.id,
            )
            .order_by(TicketStatus.position, TicketStatus.id)
        ).first()
        status.is_default = False
        db.session.flush()
        heir.is_default = True
    audit.record("ticket_status.deleted", status, details={"before": snapshot(status), "after": None})
    db.session.delete(status)

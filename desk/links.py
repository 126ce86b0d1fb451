"""Which clients a desk serves (seed 001, the desk's *Clientes* tab).

A linked client opens tickets on the desk (portal, e-mail) and staff open tickets for it
there; a client sees only the desks it is linked to. Links are made one or several at a
time, or for every active client at once (and, as an option, for every client created
later: ``desks.link_new_clients``, applied by :func:`link_new_client`, which tenant calls
when a client is created). A link cannot be removed while the client has open or
pending-review tickets on that desk.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, literal, select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from core.validation import parse_int
from desk.errors import DeskRejected
from desk.models import Desk, DeskClient
from desk.staffing import staff_desk_ids
from desk.states import BLOCKING_KINDS
from desk.ticket_models import Ticket
from desk.work import open_ticket_count
from tenant.models import Client

PICKER_LIMIT = 50
PAGE_SIZE = 50


def _live_clients(reseller_id: int):
    return select(Client).where(
        Client.reseller_id == reseller_id, Client.deleted_at.is_(None), Client.inactivated_at.is_(None)
    )


def _matching(query, search: str):
    term = " ".join((search or "").split()).lower()
    if term:
        query = query.where(func.lower(Client.trade_name).contains(term, autoescape=True))
    return query.order_by(Client.trade_name_sort, Client.id)


def linked_clients(desk: Desk, search: str = "", page: int = 1, per_page: int = PAGE_SIZE):
    """One page of the desk's clients by name, with their links, and how many match."""
    query = (
        select(DeskClient, Client)
        .join(Client, (Client.id == DeskClient.client_id) & (Client.reseller_id == desk.reseller_id))
        .where(DeskClient.desk_id == desk.id, DeskClient.reseller_id == desk.reseller_id)
        .where(Client.deleted_at.is_(None))
    )
    query = _matching(query, search)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((max(page, 1) - 1) * per_page))
    return [tuple(row) for row in rows], total


def _not_linked(desk: Desk):
    linked = select(DeskClient.id).where(DeskClient.desk_id == desk.id, DeskClient.client_id == Client.id)
    return _live_clients(desk.reseller_id).where(~linked.exists())


def linkable_clients(desk: Desk, search: str = "", limit: int = PICKER_LIMIT) -> list[Client]:
    """Active clients not linked yet (for "+ Cliente"), by name."""
    return list(db.session.scalars(_matching(_not_linked(desk), search).limit(limit)))


def client_desks(client: Client, worked_by=None) -> list[Desk]:
    """The desks a client is linked to (its page, its portal), by name; with
    ``worked_by`` (a staff account), only those it works."""
    desks = list(
        db.session.scalars(
            select(Desk)
            .join(DeskClient, DeskClient.desk_id == Desk.id)
            .where(DeskClient.client_id == client.id, DeskClient.reseller_id == client.reseller_id)
            .where(Desk.archived_at.is_(None))
            .order_by(func.lower(Desk.name), Desk.id)
        )
    )
    worked = None if worked_by is None else staff_desk_ids(worked_by)
    return desks if worked is None else [d for d in desks if d.id in worked]


def link_clients(desk: Desk, client_ids, actor_id: int | None) -> int:
    """Link the chosen active clients (already linked ones are left as they are);
    returns how many were linked."""
    wanted = {parse_int(v, min=1) for v in client_ids or []}
    if not wanted or None in wanted:
        raise DeskRejected({"client_ids": _("Choose one or more clients of the list.")})
    found = set(
        db.session.scalars(
            _live_clients(desk.reseller_id).with_only_columns(Client.id).where(Client.id.in_(wanted))
        )
    )
    if found != wanted:
        raise DeskRejected({"client_ids": _("Choose one or more clients of the list.")})
    new = sorted(
        found - set(db.session.scalars(select(DeskClient.client_id).where(DeskClient.desk_id == desk.id)))
    )
    db.session.add_all(
        DeskClient(
            reseller_id=desk.reseller_id, desk_id=desk.id, client_id=cid, linked_by_account_id=actor_id
        )
        for cid in new
    )
    db.session.flush()
    if new:
        audit.record("desk.clients_linked", desk, details={"client_ids": new})
    return len(new)


def link_all_clients(desk: Desk, actor_id: int | None, include_future: bool) -> int:
    """Link every active client not linked yet, in one statement; ``include_future``
    also links every client created from now on. Returns how many were linked."""
    now = utcnow()
    rows = _not_linked(desk).with_only_columns(
        literal(desk.reseller_id), literal(desk.id), Client.id, literal(now), literal(actor_id)
    )
    columns = ["reseller_id", "desk_id", "client_id", "linked_at", "linked_by_account_id"]
    # The rows it wrote, counted (psycopg reports no rowcount for an ORM INSERT ... SELECT).
    added = insert(DeskClient).from_select(columns, rows).returning(DeskClient.client_id)
    linked = len(db.session.execute(added).all())
    before = desk.link_new_clients
    desk.link_new_clients = bool(include_future)
    audit.record(
        "desk.all_clients_linked",
        desk,
        details={
            "linked": linked,
            "before": {"link_new_clients": before},
            "after": {"link_new_clients": desk.link_new_clients},
        },
    )
    return linked


def unlink_client(desk: Desk, client_id) -> Client:
    """Remove the client from the desk; refused while it has open or pending-review
    tickets there (seed 001). Returns the client."""
    link = db.session.scalar(
        select(DeskClient).where(
            DeskClient.desk_id == desk.id,
            DeskClient.reseller_id == desk.reseller_id,
            DeskClient.client_id == parse_int(client_id, min=1),
        )
    )
    if link is None:
        raise DeskRejected({"client_id": _("That client is not linked to this desk.")})
    client = db.session.get(Client, link.client_id)
    if open_ticket_count(client, desk_id=desk.id):
        raise DeskRejected(
            {
                "client_id": _(
                    "A client with open or pending-review tickets on this desk cannot be removed. "
                    "Close or review its tickets first."
                )
            }
        )
    db.session.delete(link)
    audit.record("desk.client_unlinked", desk, details={"client_id": client.id}, client_id=client.id)
    return client


def unlink_all_clients(desk: Desk) -> tuple[int, int]:
    """Remove every client from the desk but those with open or pending-review tickets
    there, and stop linking new clients; returns (removed, kept)."""
    busy = select(Ticket.client_id).where(
        Ticket.reseller_id == desk.reseller_id,
        Ticket.desk_id == desk.id,
        Ticket.status_kind.in_(BLOCKING_KINDS),
    )
    removed = db.session.execute(
        delete(DeskClient)
        .where(DeskClient.desk_id == desk.id, DeskClient.reseller_id == desk.reseller_id)
        .where(DeskClient.client_id.not_in(busy))
        .returning(DeskClient.client_id)
    ).all()
    kept = db.session.scalar(
        select(func.count()).select_from(DeskClient).where(DeskClient.desk_id == desk.id)
    )
    before = desk.link_new_clients
    desk.link_new_clients = False
    audit.record(
        "desk.all_clients_unlinked",
        desk,
        details={
            "removed": len(removed),
            "kept": kept,
            "before": {"link_new_clients": before},
            "after": {"link_new_clients": False},
        },
    )
    return len(removed), kept


def link_new_client(client: Client) -> None:
    """A client just created joins every desk that takes every new client."""
    desks = db.session.scalars(
        select(Desk.id).where(
            Desk.reseller_id == client.reseller_id, Desk.link_new_clients, Desk.archived_at.is_(None)
        )
    ).all()
    db.session.add_all(
        DeskClient(reseller_id=client.reseller_id, desk_id=d, client_id=client.id) for d in desks
    )

"""A client user's tickets in the portal (issue 15): which they see, which desks they
may open one on, a ticket opened, followers added.

Visibility (seed 004: "Apenas se for um usuário administrador ou supervisor configurado
para isso"): a user sees the tickets it asked and those it follows; a user holding
*see all the client's tickets* (``perm.ALL_TICKETS``: supervisors, the responsible
user) sees every ticket of its client. Another client's ticket, or one the user may not
see, is the same ``None`` (a 404 to the page), never a 403 that would tell it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from auth import permissions as perm
from auth.models import CLIENT_USER, Account
from billing.models import Plan
from core.extensions import db
from core.paging import Page, page_of
from core.validation import parse_int
from desk import approvals, sla, sla_state, ticket_changes
from desk.links import client_desks
from desk.models import Desk, SlaTarget
from desk.states import BLOCKING_KINDS, FINISHED_KINDS, EntryKind, Priority
from desk.ticket_files import attach
from desk.ticket_models import SUBJECT_SEARCH_LENGTH, Ticket, TicketAttachment, TicketEntry, TicketFollower
from desk.tickets import TicketRefused, first_entry_id, open_ticket
from tenant.models import Client, fold

# How many followers a user may add to one ticket from the portal at once.
MAX_FOLLOWERS = 20


def sees_all(account: Account) -> bool:
    """Whether ``account`` sees every ticket of its client (not only its own)."""
    return perm.ALL_TICKETS in (account.permissions or [])


def visible_select(account: Account) -> Select:
    """The tickets ``account`` (a client user) sees, as a SELECT to filter further."""
    stmt = select(Ticket).where(
        Ticket.reseller_id == account.reseller_id, Ticket.client_id == account.client_id
    )
    if sees_all(account):
        return stmt
    follows = exists().where(
        TicketFollower.ticket_id == Ticket.id,
        TicketFollower.account_id == account.id,
        TicketFollower.client_id == account.client_id,
    )
    return stmt.where(or_(Ticket.requester_account_id == account.id, follows))


def visible_ticket(account: Account, ticket_id, *, for_update: bool = False) -> Ticket | None:
    """The ticket of that id if ``account`` sees it, else ``None``."""
    ticket_id = parse_int(ticket_id, min=1)
    if ticket_id is None or account.kind != CLIENT_USER:
        return None
    stmt = visible_select(account).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update(of=Ticket)
    return db.session.scalar(stmt)


def entitled_sla(client: Client, desks: list[Desk]) -> dict[int, list[tuple[str, sla.Targets]]]:
    """Per desk, the SLA the client is entitled to at each priority (business minutes):
    the desk's policy, or its client's plan's where that is stricter (desk.sla_state)."""
    plan_policy = db.session.scalar(
        select(Plan.sla_policy_id).join(Client, Client.plan_id == Plan.id).where(Client.id == client.id)
    )
    policy_ids = {d.sla_policy_id for d in desks} | {plan_policy}
    rows = db.session.scalars(
        select(SlaTarget).where(
            SlaTarget.reseller_id == client.reseller_id, SlaTarget.policy_id.in_(policy_ids - {None})
        )
    )
    by_key = {(t.policy_id, t.priority): t for t in rows}
    out = {}
    for desk in desks:
        targets = []
        for priority in Priority:
            own = sla_state.targets_of(100, by_key.get((desk.sla_policy_id, priority)))
            plan = sla_state.targets_of(100, by_key.get((plan_policy, priority))) if plan_policy else None
            chosen, _percent = sla_state.stricter(own, plan)
            if chosen.first_response or chosen.resolution:
                targets.append((str(priority), chosen))
        out[desk.id] = targets
    return out


def openable_desks(client: Client) -> list[Desk]:
    """The desks the client may open a ticket on: those it is linked to (seed 001)."""
    return client_desks(client)


def open_from_portal(
    account: Account,
    client: Client,
    *,
    desk_id,
    subject: str,
    description: str,
    field_values: dict,
    files=(),
) -> Ticket:
    """Open a ticket asked by ``account`` on one of its client's desks, with the desk's
    client-editable fields and the files sent; :class:`TicketRefused` with nothing kept."""
    desk = next((d for d in openable_desks(client) if d.id == parse_int(desk_id, min=1)), None)
    if desk is None:
        raise TicketRefused(_("Choose one of the desks that serve you."))
    ticket = open_ticket(
        desk, client, account, subject, description, field_values=field_values, by_client=True
    )
    creation = db.session.get(TicketEntry, first_entry_id(ticket))
    attach(ticket, creation, files, by_account_id=account.id)
    # A desk that wants its tickets approved asks the client's supervisors now.
    approvals.request_for_desk_rule(ticket)
    return ticket


def colleagues(account: Account) -> list[Account]:
    """The active users of the account's client, who may follow its tickets."""
    return list(
        db.session.scalars(
            select(Account)
            .where(
                Account.reseller_id == account.reseller_id,
                Account.client_id == account.client_id,
                Account.kind == CLIENT_USER,
                Account.active.is_(True),
            )
            .order_by(Account.name, Account.id)
        )
    )


def add_followers(ticket: Ticket, account: Account, raw_ids) -> list[Account]:
    """Add users of the ticket's client as followers (a user of another client, or an
    unknown id, refuses all of them); returns those added."""
    ids = [parse_int(raw, min=1) for raw in raw_ids if str(raw).strip()]
    if not ids:
        raise TicketRefused(_("Choose who should follow this ticket."))
    if len(ids) > MAX_FOLLOWERS:
        raise TicketRefused(_("Add at most %(n)d followers at once.", n=MAX_FOLLOWERS))
    by_id = {a.id: a for a in colleagues(account) if a.client_id == ticket.client_id}
    if any(i not in by_id for i in ids):
        raise TicketRefused(_("Only users of your company can follow its tickets."))
    already = {a.id for a in ticket_changes.followers(ticket)}
    added = [by_id[i] for i in dict.fromkeys(ids) if i not in already]
    for follower in added:
        ticket_changes.follow(ticket, follower)
    return added


@dataclass(frozen=True)
class TicketFilters:
    """The portal list's filters: ``state`` ongoing / finished / all, a desk, words of the
    subject, and (for a user who sees all) only the tickets it asked."""

    state: str = "ongoing"
    desk_id: int | None = None
    q: str = ""
    mine: bool = False

    @classmethod
    def from_args(cls, args) -> TicketFilters:
        state = args.get("state") if args.get("state") in LIST_STATES else "ongoing"
        return cls(
            state=state,
            desk_id=parse_int(args.get("desk_id"), min=1),
            q=(args.get("q") or "").strip()[:SUBJECT_SEARCH_LENGTH],
            mine=args.get("mine") == "1",
        )


LIST_STATES = ("ongoing", "finished", "all")
PER_PAGE = 25


def ticket_list(account: Account, filters: TicketFilters, page: int = 1) -> Page:
    """A page of the tickets ``account`` sees, most recently active first."""
    stmt = visible_select(account)
    if filters.state == "ongoing":
        stmt = stmt.where(Ticket.status_kind.in_([str(k) for k in BLOCKING_KINDS]))
    elif filters.state == "finished":
        stmt = stmt.where(Ticket.status_kind.in_([str(k) for k in FINISHED_KINDS]))
    if filters.desk_id:
        stmt = stmt.where(Ticket.desk_id == filters.desk_id)
    if filters.q:
        words = fold(filters.q).replace("%", "").replace("_", " ").split()
        for word in words[:5]:
            stmt = stmt.where(Ticket.subject_search.like(f"%{word}%"))
    if filters.mine:
        stmt = stmt.where(Ticket.requester_account_id == account.id)
    return page_of(
        stmt.options(selectinload(Ticket.status), selectinload(Ticket.desk)),
        page,
        PER_PAGE,
        Ticket.last_activity_at.desc(),
        Ticket.id.desc(),
    )


def client_attachments(ticket: Ticket) -> list[TicketAttachment]:
    """The ticket's files a client user may open: never those of an internal note."""
    return list(
        db.session.scalars(
            select(TicketAttachment)
            .outerjoin(TicketEntry, TicketEntry.id == TicketAttachment.entry_id)
            .where(
                TicketAttachment.ticket_id == ticket.id,
                TicketAttachment.reseller_id == ticket.reseller_id,
                or_(TicketEntry.id.is_(None), TicketEntry.kind != EntryKind.INTERNAL_NOTE),
            )
            .order_by(TicketAttachment.id)
        )
    )

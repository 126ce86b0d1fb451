"""What the review and rating tests share (issue 15): reseller A on its canonical URL, a
desk worked by an agent, a ticket asked by a user of A's client, the people around it,
and the steps staff and users take."""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import select, update

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.models import Reseller
from desk.models import Desk, DeskStaff
from desk.states import EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_models import Ticket, TicketEntry
from desk.tickets import open_ticket
from tenant.models import Client

CANONICAL = "https://atendimento.a.test:8443"
LINK = re.compile(r"https?://\S+")


def build(app, factory, tenants, *, review_days: int | None = 3, reopen_days: int = 7) -> SimpleNamespace:
    """Desk "Suporte" of reseller A (review after ``review_days``), its agent, and a
    ticket of A's client asked by "pedro@alpha.test"; "chefe@alpha.test" sees all the
    client's tickets, "colega@alpha.test" only their own."""
    a = tenants.a
    desk = factory.desk(a.id, name="Suporte", client_ids=[a.client.id], reopen_window_days=reopen_days)
    agent = factory.staff(a.id, permissions=[perm.DESKS, perm.CLIENTS, perm.LOG_IN_AS], email="agente@a.test")
    requester = factory.user(a.client.id, email="pedro@alpha.test", name="Pedro")
    chief = factory.user(a.client.id, email="chefe@alpha.test", name="Chefe")
    colleague = factory.user(a.client.id, email="colega@alpha.test", name="Colega")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=a.id))
        db.session.get(Desk, desk.id).review_timeout_days = review_days  # None: a desk without review
        db.session.execute(update(Reseller).where(Reseller.id == a.id).values(canonical_url=CANONICAL))
        boss = db.session.get(Account, chief.id)
        boss.permissions = sorted({*(boss.permissions or []), perm.ALL_TICKETS})
        ticket = open_ticket(
            db.session.get(Desk, desk.id),
            db.session.get(Client, a.client.id),
            db.session.get(Account, requester.id),
            "Impressora parada",
            "Não liga",
        )
        db.session.commit()
        ticket_id = ticket.id
    return SimpleNamespace(
        a=a,
        desk=desk,
        agent=agent,
        requester=requester,
        chief=chief,
        colleague=colleague,
        ticket_id=ticket_id,
    )


def signed_in(make_browser, email: str):
    browser = make_browser()
    browser.login(email)
    return browser


def status_id(app, reseller_id: int, kind: StatusKind) -> int:
    with app.app_context():
        return default_status(reseller_id, kind).id


def resolve(app, agent, setup) -> None:
    """The agent picks the reseller's "resolved" status on the ticket page."""
    resolved = status_id(app, setup.a.id, StatusKind.RESOLVED)
    response = agent.post(f"/reseller/tickets/{setup.ticket_id}/status", {"status_id": resolved})
    assert response.status_code == 302


def ticket(app, ticket_id: int) -> SimpleNamespace:
    with app.app_context():
        row = db.session.get(Ticket, ticket_id)
        return SimpleNamespace(
            status_kind=row.status_kind,
            review_due_at=row.review_due_at,
            resolved_at=row.resolved_at,
            reopened_count=row.reopened_count,
        )


def events(app, ticket_id: int, kind: EventType) -> list[SimpleNamespace]:
    with app.app_context():
        rows = db.session.scalars(
            select(TicketEntry).where(TicketEntry.ticket_id == ticket_id).order_by(TicketEntry.id)
        )
        return [
            SimpleNamespace(
                author=e.author_account_id, acting_as=e.acting_as_account_id, after=e.event.get("after")
            )
            for e in rows
            if e.event and e.event.get("type") == kind
        ]


def links(message: dict) -> list[str]:
    return LINK.findall(message["text"])


def impersonating(make_browser, setup, account_id: int):
    """The agent's browser, logged in as the user ``account_id`` ("log in as")."""
    browser = signed_in(make_browser, "agente@a.test")
    started = browser.post(f"/reseller/clients/{setup.a.client.id}/users/{account_id}/login-as")
    assert started.headers["Location"] == "/app/"
    return browser


def set_ticket(app, ticket_id: int, **values) -> None:
    """Write the ticket's columns directly (time moved, a state set up)."""
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))
        db.session.commit()

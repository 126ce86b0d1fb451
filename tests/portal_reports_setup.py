"""Set-up shared by the portal's dashboard and reports tests: client A's tickets made by
the ticket rules (opened, answered, resolved), then moved back in time by writing their
times; a neighbour client and reseller B with tickets of their own that must never be
counted; and helpers that read a report's table from a page."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import lxml.html
from sqlalchemy import text

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.timeutil import today_local, utcnow
from desk import sla_state
from desk.models import Desk
from desk.replies import public_reply
from desk.review_models import TicketRating
from desk.states import Priority, RatingSource, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status, follow
from desk.ticket_models import Ticket
from desk.tickets import open_ticket
from tenant.models import Client
from tenant.windows import local_midnight_utc
from tests.sla_setup import sla_desk


def user(factory, client_id: int, email: str, name: str, permissions: list[str]) -> Account:
    account = db.session.get(Account, factory.user(client_id, email=email, name=name).id)
    account.permissions = permissions
    db.session.flush()
    return account


def ticket(
    desk, client, requester, subject, *, days_ago, priority=Priority.NORMAL, answer=None, resolve=False
):  # noqa: E501
    """A ticket opened by the rules, answered by ``answer`` (staff) and resolved when
    asked, then moved ``days_ago`` days back (every time it carries)."""
    row = open_ticket(desk, client, requester, subject, "Detalhes", priority=priority)
    if answer is not None:
        # Outside a request the timeline names no author: the staff member answering is
        # written on the entry, as a request would, and the SLA read again.
        public_reply(row, "Olá!", answer).author_account_id = answer.id
        sla_state.refresh(row)
    if resolve:
        change_status(row, default_status(row.reseller_id, StatusKind.RESOLVED))
    back = timedelta(days=days_ago)
    for column in ("created_at", "first_responded_at", "resolved_at", "last_activity_at"):
        if getattr(row, column) is not None:
            setattr(row, column, getattr(row, column) - back)
    db.session.flush()
    return row


def rate(row: Ticket, score: int, days_ago: int = 0) -> None:
    db.session.add(
        TicketRating(
            reseller_id=row.reseller_id,
            client_id=row.client_id,
            ticket_id=row.id,
            account_id=row.requester_account_id,
            score=score,
            source=RatingSource.PORTAL,
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )
    db.session.flush()


def scenario(factory, tenants) -> SimpleNamespace:
    """Client A: ``own`` (portal only), ``boss`` (portal, every ticket, reports), ``peer``.
    Tickets of the last 30 days: own's two, peer's two (one followed by own), boss's
    one; one 40 days old; the neighbour's and B's: today."""
    a = tenants.a
    agent = factory.staff(a.id, permissions=[perm.DESKS], email="agente@a.test")
    staff = db.session.get(Account, agent.id)
    sla = sla_desk(factory, a.id, a.client.id, staff_ids=[agent.id])  # 60 min first, 480 resolution
    plain = db.session.get(Desk, factory.desk(a.id, name="Financeiro", client_ids=[a.client.id]).id)
    client = db.session.get(Client, a.client.id)
    own = user(factory, client.id, "own@alpha.test", "Own User", [perm.PORTAL])
    everything = [perm.PORTAL, perm.ALL_TICKETS, perm.REPORTS]
    boss = user(factory, client.id, "boss@alpha.test", "Boss User", everything)
    peer = user(factory, client.id, "peer@alpha.test", "Peer User", [perm.PORTAL])
    t = SimpleNamespace(
        own_done=ticket(sla, client, own, "Own answered", days_ago=2, answer=staff, resolve=True),
        own_open=ticket(plain, client, own, "Own open", days_ago=5, priority=Priority.HIGH),
        peer_followed=ticket(sla, client, peer, "Peer followed", days_ago=1, answer=staff),
        peer_late=ticket(sla, client, peer, "Peer late", days_ago=10, priority=Priority.URGENT),
        boss_done=ticket(plain, client, boss, "Boss resolved", days_ago=3, resolve=True),
        old=ticket(sla, client, boss, "Too old", days_ago=40, answer=staff, resolve=True),
    )
    follow(t.peer_followed, own)
    # Never answered, its first response due long ago: breached.
    t.peer_late.first_response_due_at = t.peer_late.created_at + timedelta(hours=1)
    rate(t.own_done, 5)
    rate(t.boss_done, 2)
    rate(t.old, 1, days_ago=40)
    neighbour = factory.client(a.id, trade_name="Vizinha", plan_id=a.plan.id, payment_status="paid")
    n_desk = db.session.get(Desk, factory.desk(a.id, name="Mesa vizinha", client_ids=[neighbour.id]).id)
    n_client = db.session.get(Client, neighbour.id)
    n_user = db.session.get(Account, n_client.responsible_account_id)
    ticket(n_desk, n_client, n_user, "Neighbour secret", days_ago=1, resolve=True)
    b_ticket = factory.ticket(tenants.b.client.id, subject="Reseller B secret")
    db.session.commit()
    return SimpleNamespace(
        client_id=client.id,
        own_id=own.id,
        boss_id=boss.id,
        peer_id=peer.id,
        desks={desk.name: desk.id for desk in (sla, plain)},
        tickets={name: row.id for name, row in vars(t).items()},
        neighbour_id=neighbour.id,
        b_ticket_id=b_ticket.id,
    )


def set_permissions(app, account_id: int, permissions: list[str]) -> None:
    with app.app_context():
        db.session.get(Account, account_id).permissions = permissions
        db.session.commit()


def period_start(days: int = 30):
    return local_midnight_utc(today_local() - timedelta(days=days - 1))


def count(app, sql: str, **params) -> int:
    """A direct count over the tables (plain SQL, not the rules under test)."""
    with app.app_context():
        return db.session.execute(text(sql), params).scalar_one()


def table(html: str, table_id: str, *, footer: bool = True) -> list[list[str]]:
    """The rows of a report's table: the row's label, then each cell's ``data-value``
    (its number), else its text."""
    found = lxml.html.fromstring(html).get_element_by_id(table_id)
    paths = ["./tbody/tr", "./tfoot/tr"] if footer else ["./tbody/tr"]
    rows = []
    for path in paths:
        for tr in found.xpath(path):
            cells = tr.xpath("./th|./td")
            rows.append(
                [cells[0].text_content().strip()]
                + [c.get("data-value", c.text_content().strip()) for c in cells[1:]]
            )
    return rows


def text_of(html: str, element_id: str) -> str:
    """The element's text, its pieces separated by one space."""
    element = lxml.html.fromstring(html).get_element_by_id(element_id)
    return " ".join(" ".join(element.itertext()).split())

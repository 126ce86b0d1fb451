"""The bench data's desks and tickets (seeds/bench_tickets.py), made small: the shape,
and the stored SLA of an unfinished ticket equal to what desk.sla_state computes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import ResellerHost
from core.scope import bypass
from core.timeutil import utcnow
from desk.models import Desk, DeskClient, DeskStaff
from desk.sla_state import refresh
from desk.states import BLOCKING_KINDS, FINISHED_KINDS
from desk.ticket_models import Ticket, TicketCounter, TicketEntry
from seeds import bench_tickets
from seeds.bench_data import add_bench_tickets, seed_bench
from seeds.bench_profile import BENCH_HOST

pytestmark = pytest.mark.usefixtures("ctx")
COLUMNS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_paused_seconds",
    "sla_state",
    "sla_next_event_at",
)


def test_seed_bench_makes_desks_and_tickets_with_their_sla(monkeypatch):
    now = utcnow().replace(microsecond=0)
    monkeypatch.setattr(bench_tickets, "utcnow", lambda: now)  # the load's "now", to compare with
    sizes = {"users_per_client": 1, "payments_per_client": 2, "windows_per_client": 0}
    with bypass("cli", as_owner=True):  # as `flask seed bench` runs it
        message = seed_bench(clients=40, tickets=600, **sizes)
    assert "600 tickets" in message and "tickets took" in message, message
    reseller_id = db.session.scalar(select(ResellerHost.reseller_id).where(ResellerHost.host == BENCH_HOST))

    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    assert count(Desk, Desk.reseller_id == reseller_id) == 3
    assert count(Desk) >= 9  # three per bench reseller
    assert count(DeskClient, DeskClient.reseller_id == reseller_id) == 3 * 40
    assert count(DeskStaff, DeskStaff.reseller_id == reseller_id) == 3 * 12
    assert count(Ticket, Ticket.reseller_id == reseller_id) == 600
    finished = count(Ticket, Ticket.reseller_id == reseller_id, Ticket.status_kind.in_(FINISHED_KINDS))
    assert 0.5 < finished / 600 < 0.7
    entries = count(TicketEntry, TicketEntry.reseller_id == reseller_id)
    assert 2.5 < entries / 600 < 3.2
    assert db.session.get(TicketCounter, reseller_id).last_number == 600
    unfinished = db.session.scalars(
        select(Ticket)
        .where(Ticket.reseller_id == reseller_id, Ticket.status_kind.in_(BLOCKING_KINDS))
        .order_by(Ticket.id)
        .limit(60)
    ).all()
    # Several SLA states among all the unfinished (about 240; the first 60 alone may show
    # two, as the generator's seed follows the reseller's id).
    states = db.session.scalars(
        select(Ticket.sla_state)
        .where(Ticket.reseller_id == reseller_id, Ticket.status_kind.in_(BLOCKING_KINDS))
        .distinct()
    ).all()
    assert len(states) >= 3, states
    seeded = [tuple(getattr(t, c) for c in COLUMNS) for t in unfinished]
    for ticket in unfinished:
        refresh(ticket, now=now)
    assert [tuple(getattr(t, c) for c in COLUMNS) for t in unfinished] == seeded
    with bypass("cli", as_owner=True):
        assert "already present" in add_bench_tickets(10)

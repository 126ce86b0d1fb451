"""A ticket's SLA as opening it stores it (``desk.tickets.open_ticket``: computed before
the ticket is written, from its creation alone, the desk at hand and the recent
calendar) is the SLA its stored history gives when read back (``sla_state.refresh``),
with a stricter plan policy and a working-hours calendar too; and opening it writes the
ticket once (one INSERT, no UPDATE after it)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from auth.models import Account
from billing.models import Plan
from core.extensions import db
from desk.models import BusinessCalendar, Desk
from desk.sla_state import CLOCKS, DUE_COLUMNS, EXPIRING_COLUMNS, refresh
from desk.states import Priority
from desk.tickets import open_ticket
from tenant.models import Client
from tests.sla_setup import policy, sla_desk

pytestmark = pytest.mark.usefixtures("ctx")

OFFICE = {str(day): [["08:00", "18:00"]] for day in range(5)}
STORED = [
    *DUE_COLUMNS.values(),
    *EXPIRING_COLUMNS.values(),
    "sla_paused_seconds",
    "sla_state",
    "sla_next_event_at",
]


def stored(ticket) -> dict:
    return {column: getattr(ticket, column) for column in STORED}


@pytest.fixture
def requester(tenants):
    client = db.session.get(Client, tenants.a.client.id)
    return db.session.get(Account, client.responsible_account_id)


@pytest.mark.parametrize("office_hours", [False, True], ids=["24x7", "office hours"])
@pytest.mark.parametrize("plan_policy", [False, True], ids=["desk policy", "stricter plan policy"])
def test_the_sla_stored_at_opening_is_what_the_history_gives(
    factory, tenants, requester, office_hours, plan_policy
):
    desk = sla_desk(factory, tenants.a.id, tenants.a.client.id, first=240, next_=480, resolution=2880)
    if office_hours:
        db.session.get(BusinessCalendar, desk.calendar_id).hours = OFFICE
    client = requester.client
    if plan_policy:
        plan = db.session.get(Plan, factory.plan(tenants.a.id).id)
        plan.sla_policy_id = policy(tenants.a.id, "Plano ouro", first=30, next_=60, resolution=600).id
        client.plan_id = plan.id
    db.session.commit()
    ticket = open_ticket(db.session.get(Desk, desk.id), client, requester, "Sem rede", priority=Priority.HIGH)
    opened = stored(ticket)
    assert all(opened[DUE_COLUMNS[clock]] is not None for clock in CLOCKS if clock != "next_response")
    refresh(ticket, now=ticket.created_at)
    assert stored(ticket) == opened


def test_opening_a_ticket_writes_it_once(factory, tenants, requester):
    desk = db.session.get(Desk, sla_desk(factory, tenants.a.id, tenants.a.client.id).id)
    db.session.commit()
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0:3])

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        open_ticket(desk, requester.client, requester, "Sem rede")
        db.session.flush()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert ["INSERT", "INTO", "tickets"] in statements
    assert not [s for s in statements if s[:2] == ["UPDATE", "tickets"]]

"""The SLA applied to tickets (desk.sla_state): the history read from the timeline, the
targets picked (desk, stricter plan), the state stored on the ticket; on PostgreSQL and
SQLite."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from billing.models import Plan
from core.extensions import db
from core.timeutil import utcnow
from desk import sla
from desk.models import BusinessCalendar, CalendarDate, SlaPolicy, SlaTarget
from desk.policies import save_policy
from desk.sla_state import (
    Line,
    Point,
    aggregate,
    calendar_from,
    history,
    next_response_cycle,
    recompute_for_policy,
    refresh,
    stricter,
)
from desk.states import ClockState, EntryKind, EventType, Priority, SlaState, StatusKind
from desk.ticket_models import Ticket
from tests.sla_setup import T0, at, move, new_ticket, policy, reply, sla_desk

pytestmark = pytest.mark.usefixtures("ctx")

OPEN, PAUSED, DONE = Point(False, False), Point(True, False), Point(False, True)


def status_event(before, after, **snapshot) -> dict:
    return {"type": EventType.STATUS.value, "before": before, "after": after, **snapshot}


# --- pure rules ----------------------------------------------------------------------------


def test_history_reads_replies_by_author_and_status_changes():
    statuses = {1: OPEN, 2: PAUSED, 3: DONE}
    lines = [
        Line(at(-5), EntryKind.PUBLIC_REPLY, by_staff=False),  # clamped to the creation
        Line(at(10), EntryKind.PUBLIC_REPLY, by_staff=True),
        Line(at(20), EntryKind.EVENT, event=status_event(1, 2)),
        Line(at(30), EntryKind.EVENT, event={"type": EventType.PRIORITY.value, "after": "high"}),
        Line(at(40), EntryKind.PUBLIC_REPLY, by_staff=False),
        Line(at(50), EntryKind.EVENT, event=status_event(2, 99, kind=StatusKind.CLOSED, pauses_sla=False)),
    ]
    events = history(T0, lines, OPEN, statuses.get)
    assert events == [
        sla.Created(T0),
        sla.ClientReply(T0),
        sla.StaffReply(at(10)),
        sla.StatusChanged(at(20), pauses=True, resolves=False),
        sla.ClientReply(at(40)),
        sla.StatusChanged(at(50), pauses=False, resolves=True),  # the snapshot, not a lookup
    ]


def test_the_status_from_creation_is_the_first_events_before_else_the_current_one():
    statuses = {1: OPEN, 2: PAUSED}
    moved = history(T0, [Line(at(5), EntryKind.EVENT, event=status_event(2, 1))], OPEN, statuses.get)
    assert moved[1] == sla.StatusChanged(T0, pauses=True, resolves=False)
    assert history(T0, [], DONE, statuses.get) == [sla.Created(T0), sla.StatusChanged(T0, resolves=True)]
    assert history(T0, [], OPEN, statuses.get) == [sla.Created(T0)]


def test_next_response_cycles_count_the_clocks_client_replies_opened():
    def events(*kinds):
        return [sla.Created(T0)] + [
            (sla.StaffReply if k == "s" else sla.ClientReply)(at(i + 1)) for i, k in enumerate(kinds)
        ]

    assert next_response_cycle(events("c")) == 0  # before any staff reply: the first response
    assert next_response_cycle(events("s", "c", "c")) == 1
    assert next_response_cycle(events("s", "c", "s", "c")) == 2


def test_the_stricter_target_wins_one_by_one():
    desk = (sla.Targets(60, None, 480), 80)
    plan = (sla.Targets(30, 240, None), 90)
    assert stricter(desk, plan) == (sla.Targets(30, 240, 480), 80)
    assert stricter(desk, None) == desk


@pytest.mark.parametrize(
    ("states", "current", "expected"),
    [
        ((ClockState.MET, ClockState.BREACHED, ClockState.EXPIRING), OPEN, SlaState.BREACHED),
        ((ClockState.EXPIRING, ClockState.PENDING, ClockState.PENDING), PAUSED, SlaState.EXPIRING),
        ((ClockState.MET, ClockState.NOT_APPLICABLE, ClockState.PENDING), PAUSED, SlaState.PAUSED),
        ((ClockState.MET, ClockState.NOT_APPLICABLE, ClockState.MET), OPEN, SlaState.MET),
        ((ClockState.PENDING, ClockState.NOT_APPLICABLE, ClockState.MET), DONE, SlaState.MET),
        ((ClockState.MET, ClockState.NOT_APPLICABLE, ClockState.PENDING), OPEN, SlaState.OK),
        ((ClockState.NOT_APPLICABLE,) * 3, OPEN, SlaState.OK),
    ],
)
def test_the_tickets_state_aggregates_its_clocks(states, current, expected):
    outcome = sla.SlaOutcome(
        sla.Targets(), *(sla.Clock(s) for s in states), paused_seconds=0, next_change_at=None
    )
    assert aggregate(outcome, current) == expected


def test_a_stored_calendar_becomes_business_hours():
    row = BusinessCalendar(
        reseller_id=1, name="Office", timezone="America/Sao_Paulo", use_national_holidays=True,
        hours={"0": [["08:00", "12:00"], ["13:00", "18:00"]]},
    )  # fmt: skip
    row.dates = [CalendarDate(reseller_id=1, day=date(2026, 3, 9), name="Own")]
    calendar = calendar_from(row)
    monday = datetime(2026, 3, 2, 11)  # 08:00 in São Paulo
    assert calendar.add_business_time(monday, timedelta(hours=5)) == datetime(2026, 3, 2, 17)
    assert not calendar.is_business_time(datetime(2026, 3, 9, 12))  # its own date
    assert calendar.is_holiday(date(2026, 4, 21))  # Tiradentes
    assert calendar_from(None).is_business_time(datetime(2026, 1, 1, 3))  # no calendar: 24x7


# --- stored on the ticket ------------------------------------------------------------------


@pytest.fixture
def desk(factory, tenants):
    return sla_desk(factory, tenants.a.id, tenants.a.client.id)


@pytest.fixture
def staff(factory, tenants):
    return factory.staff(tenants.a.id)


def test_a_new_ticket_gets_its_deadlines(factory, tenants, desk):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    refresh(ticket, now=at(10))
    assert (ticket.first_response_due_at, ticket.next_response_due_at, ticket.resolution_due_at) == (
        at(60),
        None,
        at(480),
    )
    assert (ticket.sla_state, ticket.sla_paused_seconds, ticket.sla_next_event_at) == (SlaState.OK, 0, at(48))
    # Each clock's "expiring" instant beside its deadline (80 % of 60 and of 480 minutes).
    expiring = (
        ticket.first_response_expiring_at,
        ticket.next_response_expiring_at,
        ticket.resolution_expiring_at,
    )
    assert expiring == (at(48), None, at(384))
    refresh(ticket, now=at(50))
    # Expiring since 48: that event, not notified yet, stays due for the sweep.
    assert (ticket.sla_state, ticket.sla_next_event_at) == (SlaState.EXPIRING, at(48))


def test_replies_stop_and_start_the_response_clocks(factory, tenants, desk, staff):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    reply(ticket, staff.id, 30)
    refresh(ticket, now=at(40))
    assert ticket.first_response_due_at is None and ticket.sla_next_event_at == at(384)
    assert ticket.first_response_expiring_at is None  # met: no deadline, nothing to expire
    reply(ticket, factory.user(tenants.a.client.id).id, 100)
    refresh(ticket, now=at(110))
    assert ticket.next_response_due_at == at(220) and ticket.sla_next_event_at == at(196)


def test_a_pausing_status_stops_the_clock_and_keeps_the_paused_time(factory, tenants, desk):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    move(ticket, StatusKind.WAITING_ON_CLIENT, 30)
    refresh(ticket, now=at(90))
    assert ticket.sla_state == SlaState.PAUSED and ticket.sla_next_event_at is None
    assert ticket.sla_paused_seconds == 3600
    move(ticket, StatusKind.OPEN, 90)
    refresh(ticket, now=at(100))
    # 40 of the first response's 60 minutes used: expiring at 48 (108), due at 60 (120).
    assert ticket.sla_state == SlaState.OK and ticket.sla_next_event_at == at(108)
    assert ticket.first_response_due_at == at(120) and ticket.resolution_due_at == at(540)


def test_a_resolved_ticket_is_met(factory, tenants, desk, staff):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    reply(ticket, staff.id, 10)
    move(ticket, StatusKind.RESOLVED, 20)
    refresh(ticket, now=at(600))
    assert ticket.sla_state == SlaState.MET and ticket.sla_next_event_at is None
    assert ticket.resolution_due_at is None


def test_the_clients_plan_may_carry_a_stricter_sla(factory, tenants, desk):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    plan = db.session.get(Plan, tenants.a.plan.id)
    plan.sla_policy_id = policy(tenants.a.id, "Premium", first=30, next_=None, resolution=960).id
    refresh(ticket, now=at(1))
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (at(30), at(480))
    # Another reseller's policy named by the plan is not applied.
    plan.sla_policy_id = policy(tenants.b.id, "Theirs", first=5).id
    refresh(ticket, now=at(1))
    assert ticket.first_response_due_at == at(60)


def test_an_sla_change_is_recomputed_from_the_history(factory, tenants, desk):
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    refresh(ticket, now=at(50))
    assert ticket.sla_state == SlaState.EXPIRING
    ticket.priority = Priority.URGENT
    target = (
        db.session.query(SlaTarget).filter_by(policy_id=desk.sla_policy_id, priority=Priority.URGENT).one()
    )
    target.first_response_minutes = 240
    db.session.flush()
    refresh(ticket, now=at(50))
    assert ticket.first_response_due_at == at(240) and ticket.sla_state == SlaState.OK
    normal = (
        db.session.query(SlaTarget).filter_by(policy_id=desk.sla_policy_id, priority=Priority.URGENT).one()
    )
    normal.first_response_minutes = 20
    normal.resolution_minutes = 1000
    db.session.flush()
    assert recompute_for_policy(desk.sla_policy_id, batch_size=1, now=at(50)) == 1
    db.session.refresh(ticket)
    assert ticket.sla_state == SlaState.BREACHED
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (at(20), at(1000))


def test_a_ticket_not_yet_flushed_is_refreshed(factory, tenants, desk):
    model = new_ticket(factory, desk, tenants.a.client.id)
    ticket = Ticket(
        reseller_id=model.reseller_id, number=999, desk_id=desk.id, client_id=model.client_id, subject="Novo",
        status_id=model.status_id, status_kind=model.status_kind, priority=Priority.NORMAL, priority_rank=2,
    )  # fmt: skip
    db.session.add(ticket)
    refresh(ticket)
    assert ticket.id is not None and ticket.first_response_due_at == ticket.created_at + timedelta(minutes=60)


def test_changing_a_policys_targets_recomputes_its_open_tickets(app, factory, tenants, run_jobs):
    """Saving new targets queues the recompute (after commit); the ticket's deadline moves."""
    desk = sla_desk(factory, tenants.a.id, tenants.a.client.id, resolution=480)
    ticket = new_ticket(factory, desk, tenants.a.client.id, created_at=utcnow())
    refresh(ticket)
    db.session.commit()
    before = ticket.resolution_due_at
    policy_row = db.session.get(SlaPolicy, desk.sla_policy_id)
    targets = {f"{p}.resolution_minutes": "60" for p in Priority}
    save_policy(tenants.a.id, policy_row, policy_row.name, "80", targets)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    after = db.session.get(Ticket, ticket.id).resolution_due_at
    assert before is not None and after is not None
    assert after == before - timedelta(minutes=420)

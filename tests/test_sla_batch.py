"""The sweep refreshes a batch of tickets from inputs read once for the whole batch
(desk.sla_batch): it stores exactly what refreshing and notifying each ticket alone
stores (deadlines, state, notices, timeline events, e-mails), in a number of statements
that does not grow with the batch."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from billing.models import Plan
from core import jobs
from core.extensions import db
from desk.models import BusinessCalendar, CalendarDate, Desk, SlaPolicy, SlaTarget
from desk.sla_models import TicketSlaNotice
from desk.sla_state import refresh
from desk.sla_sweep import lock, notify, sweep_batch
from desk.states import EntryKind, EventType, Priority, StatusKind
from desk.statuses import default_status
from desk.ticket_models import Ticket, TicketEntry
from tests.sla_setup import T0, at, entry, move, new_ticket, policy, reply, sla_desk

pytestmark = pytest.mark.usefixtures("ctx")

STORED = (
    Ticket.id,
    Ticket.first_response_due_at,
    Ticket.next_response_due_at,
    Ticket.resolution_due_at,
    Ticket.sla_paused_seconds,
    Ticket.sla_state,
    Ticket.sla_next_event_at,
)
STEPS = ("staff", "client", "note", "pause", "pause_unsnapshotted", "reopen", "resolve")
OFFICE = {str(day): [["09:00", "18:00"]] for day in range(5)}


def tiered_policy(reseller_id: int) -> SlaPolicy:
    """Targets that differ by priority, expiring at 75%."""
    row = SlaPolicy(reseller_id=reseller_id, name="Tiered", expiring_percent=75)
    db.session.add(row)
    db.session.flush()
    for scale, priority in enumerate(Priority, start=1):
        db.session.add(
            SlaTarget(
                reseller_id=reseller_id,
                policy_id=row.id,
                priority=priority,
                first_response_minutes=15 * scale,
                next_response_minutes=None if priority == Priority.LOW else 40 * scale,
                resolution_minutes=240 * scale,
            )
        )
    db.session.flush()
    return row


@pytest.fixture
def world(factory, tenants):
    """Desks of two resellers: 24x7 with one policy, office hours (holidays, national
    and the reseller's) with targets by priority, and no SLA at all; reseller A's
    client has a plan with a stricter policy, B's a plan naming A's policy; staff on
    the desks, one inactive."""
    a, b = tenants.a, tenants.b
    staff_a = [factory.staff(a.id, email=f"staff{n}@a.test").id for n in range(3)]
    gone = factory.staff(a.id, email="gone@a.test").id
    staff_b = [factory.staff(b.id, email="staff@b.test").id]
    round_the_clock = sla_desk(factory, a.id, a.client.id, staff_ids=[staff_a[0], gone])
    office = sla_desk(factory, a.id, a.client.id, staff_ids=staff_a[1:])
    calendar = db.session.get(BusinessCalendar, office.calendar_id)
    calendar.hours, calendar.timezone, calendar.use_national_holidays = OFFICE, "America/Sao_Paulo", True
    db.session.add(CalendarDate(reseller_id=a.id, calendar_id=calendar.id, day=date(2026, 3, 4), name="Off"))
    office.sla_policy_id = tiered_policy(a.id).id
    bare = db.session.get(Desk, factory.desk(a.id, client_ids=[a.client.id]).id)
    other = sla_desk(factory, b.id, b.client.id, staff_ids=staff_b, first=20, next_=45, resolution=300)
    plan = db.session.get(Plan, a.plan.id)
    plan.sla_policy_id = policy(a.id, "Premium", first=30, next_=None, resolution=960, percent=90).id
    # Reseller B's plan names A's policy: not B's to apply.
    db.session.get(Plan, b.plan.id).sla_policy_id = policy(a.id, "Not B's", first=5).id
    db.session.commit()
    return [
        (round_the_clock, a.client.id, staff_a[0]),
        (office, a.client.id, staff_a[1]),
        (bare, a.client.id, staff_a[2]),
        (other, b.client.id, staff_b[0]),
    ]


def write_history(ticket: Ticket, staff_id: int, steps) -> None:
    minutes = (ticket.created_at - T0).total_seconds() / 60
    for gap, step in steps:
        minutes += gap
        if step in ("staff", "client"):
            reply(ticket, staff_id if step == "staff" else None, minutes)
        elif step == "note":
            entry(ticket, minutes, kind=EntryKind.INTERNAL_NOTE, author_account_id=staff_id, body="...")
        elif step == "pause_unsnapshotted":  # an entry naming its status by id only
            after = default_status(ticket.reseller_id, StatusKind.WAITING_ON_CLIENT)
            change = {"type": EventType.STATUS.value, "before": ticket.status_id, "after": after.id}
            ticket.status_id, ticket.status_kind = after.id, after.kind
            entry(ticket, minutes, kind=EntryKind.EVENT, event=change)
        else:
            kind = {
                "pause": StatusKind.WAITING_ON_CLIENT,
                "reopen": StatusKind.OPEN,
                "resolve": StatusKind.RESOLVED,
            }[step]
            move(ticket, kind, minutes)
    db.session.flush()


def build(factory, world, specs) -> list[int]:
    ids = []
    for spec in specs:
        desk, client_id, staff_id = world[spec["desk"]]
        ticket = new_ticket(factory, desk, client_id, created_at=at(spec["created"]))
        ticket.priority = spec["priority"]
        ticket.assignee_account_id = staff_id if spec["assigned"] else None
        write_history(ticket, staff_id, spec["steps"])
        ids.append(ticket.id)
    db.session.commit()
    return ids


def each_alone(ids: list[int], now) -> int:
    """Each ticket locked, refreshed and notified on its own, reading what it needs one
    query at a time (as the ticket rules refresh a ticket)."""
    new = 0
    for ticket_id in ids:
        for ticket in lock([ticket_id]):
            refreshed = refresh(ticket, now=now)
            ticket.sla_next_event_at = refreshed.outcome.next_change_at
            new += notify([(ticket, refreshed)], now)
    return new


def stored(ids: list[int]) -> dict:
    """What a sweep leaves behind for ``ids`` (the notices' own send time aside)."""
    notice = TicketSlaNotice
    return {
        "tickets": [
            tuple(row)
            for row in db.session.execute(select(*STORED).where(Ticket.id.in_(ids)).order_by(Ticket.id))
        ],
        "notices": sorted(
            tuple(row)
            for row in db.session.execute(
                select(notice.ticket_id, notice.clock, notice.event, notice.cycle, notice.occurred_at).where(
                    notice.ticket_id.in_(ids)
                )
            )
        ),
        "events": [
            tuple(row)
            for row in db.session.execute(
                select(TicketEntry.ticket_id, TicketEntry.event, TicketEntry.created_at)
                .where(TicketEntry.ticket_id.in_(ids), TicketEntry.kind == EntryKind.EVENT)
                .order_by(TicketEntry.ticket_id, TicketEntry.id)
            )
        ],
    }


def outcome(run, ids: list[int]) -> tuple:
    """Run ``run`` in a savepoint rolled back afterwards: what it returned, stored and
    queued for e-mail."""
    pending = db.session.info.setdefault(jobs._PENDING_KEY, [])
    queued_before = len(pending)
    savepoint = db.session.begin_nested()
    new = run()
    db.session.flush()
    result = stored(ids)
    # Each mail's Message-ID is minted at random: the rest of it is what is compared.
    mails = [
        {key: value for key, value in spec.args[0].items() if key != "message_id"}
        for spec in pending[queued_before:]
        if spec.func == "core.mail.deliver"
    ]
    del pending[queued_before:]
    savepoint.rollback()
    return new, result, mails


history = st.lists(st.tuples(st.integers(1, 240), st.sampled_from(STEPS)), max_size=6)
ticket_specs = st.lists(
    st.fixed_dictionaries(
        {
            "desk": st.integers(0, 3),
            "priority": st.sampled_from(list(Priority)),
            "assigned": st.booleans(),
            "created": st.integers(0, 24 * 60),
            "steps": history,
        }
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=ticket_specs, earlier=st.none() | st.integers(0, 4 * 24 * 60), later=st.integers(0, 4 * 24 * 60))
def test_a_batch_stores_what_each_ticket_alone_stores(factory, world, specs, earlier, later):
    ids = build(factory, world, specs)
    if earlier is not None:  # swept once before: some events are notified already
        sweep_batch(ids, at(earlier))
        db.session.commit()
    now = at((earlier or 0) + later)
    alone = outcome(lambda: each_alone(ids, now), ids)
    batched = outcome(lambda: sweep_batch(ids, now), ids)
    assert batched == alone


def test_the_batch_reads_the_plan_and_the_business_hours(factory, world):
    """The comparison above would pass if both paths ignored an input: these matter."""
    spec = {"desk": 1, "priority": Priority.HIGH, "assigned": True, "created": 0, "steps": []}
    ids = build(factory, world, [spec])  # office hours; the client's plan is stricter
    new, result, mails = outcome(lambda: sweep_batch(ids, at(24 * 60)), ids)
    _id, first_due, next_due, resolution_due, _paused, _state, _next = result["tickets"][0]
    # Monday 12:00 UTC is 09:00 in São Paulo. First response: the plan's 30 minutes, not
    # the desk's 45 for high. Resolution: the desk's 720 (not the plan's 960), nine
    # office hours on Monday and three on Tuesday: Tuesday 12:00 there, 15:00 UTC.
    assert (first_due, next_due, resolution_due) == (at(30), None, at(27 * 60))
    # First response expiring and breached (the breach alone e-mailed), resolution
    # expiring (75% of it: Monday 18:00 there), each to the two desk staff.
    assert new == 3
    assert sorted((m["to"][0], "estourado" in m["subject"]) for m in mails) == [
        ("staff1@a.test", False),
        ("staff1@a.test", True),
        ("staff2@a.test", False),
        ("staff2@a.test", True),
    ]


def statements_of(run) -> int:
    """How many SQL statements ``run`` sends (the test's savepoints aside)."""
    count = 0

    def seen(_conn, _cursor, statement, *_args) -> None:
        nonlocal count
        count += not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()
        db.session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count


def test_a_batch_sends_as_many_statements_for_two_tickets_as_for_eight(factory, world):
    # Two kinds of ticket, taking turns: their refreshes change different columns.
    answered = [(10, "staff"), (20, "client"), (30, "pause"), (200, "reopen")]
    kinds = [
        {"desk": 1, "priority": Priority.NORMAL, "assigned": True, "created": 0, "steps": answered},
        {"desk": 0, "priority": Priority.HIGH, "assigned": False, "created": 0, "steps": []},
    ]
    small = build(factory, world, kinds)
    large = build(factory, world, kinds * 4)
    now = at(3 * 24 * 60)
    counts = []
    for ids in (small, large):
        savepoint = db.session.begin_nested()
        counts.append(statements_of(lambda ids=ids: sweep_batch(ids, now)))
        savepoint.rollback()
    alone = db.session.begin_nested()
    one_by_one = statements_of(lambda: each_alone(large, now))
    alone.rollback()
    assert counts[0] == counts[1]
    assert one_by_one > counts[1]  # the count sees the queries a ticket costs

"""desk.sla.compute: a ticket's SLA clocks from its history, as a table of exact instants
(weekends, holidays, own dates, outside hours, lunch, overnight, 24x7, DST, pauses,
next responses, reopening, SLA changes, met / expiring / breached), plus properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.business_hours import BusinessCalendar
from desk.sla import (
    ClientReply,
    Created,
    StaffReply,
    StatusChanged,
    Targets,
    TargetsChanged,
    compute,
)
from desk.states import ClockState

WEEK = range(5)
# São Paulo (UTC-3 all year): 08:00-12:00 and 13:00-18:00 on weekdays, 9 hours a day.
OFFICE = BusinessCalendar({day: [("08:00", "12:00"), ("13:00", "18:00")] for day in WEEK})
OWN_DATES = BusinessCalendar(OFFICE.hours, holidays={date(2026, 11, 10)})
NIGHT = BusinessCalendar({day: [("22:00", "06:00")] for day in WEEK})
ALWAYS = BusinessCalendar.round_the_clock()
NEW_YORK = BusinessCalendar({day: [("09:00", "17:00")] for day in WEEK}, "America/New_York", country="US")

# First response 1 h, next response 2 h, resolution 9 h (one office day).
SLA = Targets(first_response=60, next_response=120, resolution=540)

# Local times are written "day HH:MM"; the days of autumn 2026 the rows use:
DAYS = {
    "fri30": "2026-10-30",  # Friday 30 October, before Finados (Monday 2 November)
    "mon2": "2026-11-02",
    "tue3": "2026-11-03",
    "sat7": "2026-11-07",
    "mon": "2026-11-09",  # an ordinary week
    "tue": "2026-11-10",
    "wed": "2026-11-11",
    "thu19": "2026-11-19",  # Friday 20 is Consciência Negra
    "mon23": "2026-11-23",
}

P, N, E, B, M = (
    ClockState.PENDING,
    ClockState.NOT_APPLICABLE,
    ClockState.EXPIRING,
    ClockState.BREACHED,
    ClockState.MET,
)
NONE = (N, None)

# Events as (constructor, local time); StatusChanged kinds as the desk maps them.
CREATED, STAFF, CLIENT = Created, StaffReply, ClientReply
PAUSE = partial(StatusChanged, pauses=True)  # waiting on client, waiting on third party
OPEN = StatusChanged  # new, open: a reopened ticket too
RESOLVE = partial(StatusChanged, resolves=True)  # resolved, closed, merged


def CHANGE(first=None, next_=None, resolution=None):  # noqa: N802 (reads as an event kind)
    return partial(TargetsChanged, targets=Targets(first, next_, resolution))


def local(calendar: BusinessCalendar, text: str) -> datetime:
    """The naive UTC instant of ``"mon 09:00"`` (or ``"2026-11-09 09:00"``) on ``calendar``."""
    day, _, clock = text.partition(" ")
    aware = datetime.fromisoformat(f"{DAYS.get(day, day)} {clock}").replace(tzinfo=calendar.timezone)
    return aware.astimezone(UTC).replace(tzinfo=None)


def row(name, history, now, *, calendar=OFFICE, targets=SLA, **expected):
    return pytest.param(calendar, targets, history, now, expected, id=name)


# fmt: off
ROWS = [
    row("a new ticket: first response due in 1 h, resolution next morning",
        [(CREATED, "mon 09:00")], "mon 09:30",
        first=(P, "mon 10:00"), next=NONE, resolution=(P, "tue 09:00"), next_change="mon 09:48"),
    row("one minute before 80 %: still pending",
        [(CREATED, "mon 09:00")], "mon 09:47", first=(P, "mon 10:00"), next_change="mon 09:48"),
    row("expiring at 80 %",
        [(CREATED, "mon 09:00")], "mon 09:48",
        first=(E, "mon 10:00"), expiring="mon 09:48", next_change="mon 10:00"),
    row("breached at the deadline; the next change is the resolution's 80 %",
        [(CREATED, "mon 09:00")], "mon 10:00",
        first=(B, "mon 10:00"), resolution=(P, "tue 09:00"), next_change="mon 17:12"),
    row("already met",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:40")], "mon 10:30",
        first=(M, None), next=NONE, resolution=(P, "tue 09:00")),
    row("met in the deadline's last second",
        [(CREATED, "mon 09:00"), (STAFF, "mon 10:00")], "mon 10:30", first=(M, None)),
    row("answered late: stays breached, the missed deadline kept",
        [(CREATED, "mon 09:00"), (STAFF, "mon 10:20")], "mon 11:00", first=(B, "mon 10:00")),
    row("resolution breached too",
        [(CREATED, "mon 09:00")], "tue 09:00",
        first=(B, "mon 10:00"), resolution=(B, "tue 09:00"), next_change=None),
    row("created on a Saturday: the clock starts on Monday",
        [(CREATED, "sat7 15:00")], "sat7 16:00",
        first=(P, "mon 09:00"), resolution=(P, "mon 18:00"), next_change="mon 08:48"),
    row("created after hours on the eve of Finados (Monday 2)",
        [(CREATED, "fri30 17:30")], "fri30 17:45",
        first=(P, "tue3 08:30"), resolution=(P, "tue3 17:30")),
    row("over Consciência Negra (Friday 20)",
        [(CREATED, "thu19 14:00")], "thu19 14:30",
        first=(P, "thu19 15:00"), resolution=(P, "mon23 14:00")),
    row("over the reseller's own date (Tuesday 10)",
        [(CREATED, "mon 15:00")], "mon 16:00", calendar=OWN_DATES, targets=Targets(first_response=240),
        first=(P, "wed 09:00"), next=NONE, resolution=NONE),
    row("over the lunch break",
        [(CREATED, "mon 11:30")], "mon 11:45", first=(P, "mon 13:30"), next_change="mon 13:18"),
    row("overnight hours",
        [(CREATED, "mon 21:00")], "mon 21:30", calendar=NIGHT,
        first=(P, "mon 23:00"), resolution=(P, "tue 23:00")),
    row("24x7",
        [(CREATED, "sat7 10:00")], "sat7 10:30", calendar=ALWAYS,
        first=(P, "sat7 11:00"), resolution=(P, "sat7 19:00")),
    row("New York, over the end of daylight saving (local times)",
        [(CREATED, "fri30 16:00")], "fri30 16:30", calendar=NEW_YORK,
        targets=Targets(first_response=120), first=(P, "mon2 10:00")),
    row("a pause stops every clock and pushes the deadlines",
        [(CREATED, "mon 09:00"), (PAUSE, "mon 09:20"), (OPEN, "mon 14:00")], "mon 14:10",
        first=(P, "mon 14:40"), resolution=(P, "tue 13:40"), paused=220, next_change="mon 14:28"),
    row("several pauses",
        [(CREATED, "mon 09:00"), (PAUSE, "mon 09:10"), (OPEN, "mon 09:20"),
         (PAUSE, "mon 09:30"), (OPEN, "mon 10:00")], "mon 10:00",
        first=(P, "mon 10:40"), paused=40, next_change="mon 10:28"),
    row("paused now: the deadline as if resumed now, nothing to index",
        [(CREATED, "mon 09:00"), (PAUSE, "mon 09:30")], "tue 10:00",
        first=(P, "tue 10:30"), running=False, paused=570, next_change=None),
    row("breached before a pause stays breached",
        [(CREATED, "mon 09:00"), (PAUSE, "mon 10:30")], "mon 11:00",
        first=(B, "mon 10:00"), next_change=None),
    row("a client reply before any staff reply opens no next-response clock",
        [(CREATED, "mon 09:00"), (CLIENT, "mon 09:10")], "mon 09:30", first=(P, "mon 10:00"), next=NONE),
    row("next response after the client's reply",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (CLIENT, "mon 11:00")], "mon 11:30",
        first=(M, None), next=(P, "mon 14:00"), next_change="mon 13:36"),
    row("next response met; a second client reply did not restart it",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (CLIENT, "mon 11:00"), (CLIENT, "mon 11:30"),
         (STAFF, "mon 13:30")], "mon 14:00", next=(M, None)),
    row("next response breached, then answered",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (CLIENT, "mon 11:00"), (STAFF, "mon 14:30")],
        "mon 15:00", next=(B, "mon 14:00")),
    row("a new next-response clock after an answered one",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (CLIENT, "mon 10:00"), (STAFF, "mon 10:30"),
         (CLIENT, "mon 15:00")], "mon 15:10", next=(P, "mon 17:00")),
    row("resolved in time: met, the clocks stand still",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (RESOLVE, "mon 11:00")], "tue 10:00",
        first=(M, None), next=NONE, resolution=(M, None), paused=480, next_change=None),
    row("reopened: the resolution clock runs on from where it stood",
        [(CREATED, "mon 09:00"), (STAFF, "mon 09:30"), (RESOLVE, "mon 11:00"), (OPEN, "wed 09:00")],
        "wed 10:00", resolution=(P, "wed 17:00"), paused=960),
    row("SLA changed to a stricter one: it applies from creation",
        [(CREATED, "mon 09:00"), (CHANGE(30, 120, 540), "mon 09:20")], "mon 09:25",
        first=(E, "mon 09:30"), next_change="mon 09:30"),
    row("SLA changed to one already missed: breached at once",
        [(CREATED, "mon 09:00"), (CHANGE(15, 120, 540), "mon 09:20")], "mon 09:20",
        first=(B, "mon 09:15")),
    row("SLA changed to a looser one",
        [(CREATED, "mon 09:00"), (CHANGE(240, 120, 540), "mon 09:20")], "mon 10:30",
        first=(P, "mon 14:00")),
    row("a looser SLA judges a late reply again",
        [(CREATED, "mon 09:00"), (STAFF, "mon 10:20"), (CHANGE(120, 120, 540), "mon 11:00")],
        "mon 11:30", first=(M, None)),
    row("an SLA change after now is not in force yet",
        [(CREATED, "mon 09:00"), (CHANGE(15, 120, 540), "mon 10:00")], "mon 09:30",
        first=(P, "mon 10:00")),
    row("an SLA change that drops a target",
        [(CREATED, "mon 09:00"), (CHANGE(None, None, 540), "mon 09:20")], "mon 10:30",
        first=NONE, resolution=(P, "tue 09:00"), next_change="mon 17:12"),
    row("no targets: nothing applies",
        [(CREATED, "mon 09:00")], "mon 09:30", targets=Targets(),
        first=NONE, next=NONE, resolution=NONE, next_change=None),
]
# fmt: on


@pytest.mark.parametrize(("calendar", "targets", "history", "now", "expected"), ROWS)
def test_the_sla_clock(calendar, targets, history, now, expected):
    at = partial(local, calendar)
    events = [kind(at(when)) for kind, when in history]
    outcome = compute(calendar, targets, events, at(now))
    for name, clock in (
        ("first", outcome.first_response),
        ("next", outcome.next_response),
        ("resolution", outcome.resolution),
    ):
        if name in expected:
            state, deadline = expected[name]
            assert (clock.state, clock.deadline) == (state, deadline and at(deadline)), name
    if "expiring" in expected:
        assert outcome.first_response.expiring_at == at(expected["expiring"])
    if "running" in expected:
        assert outcome.first_response.running is expected["running"]
    if "paused" in expected:
        assert outcome.paused_seconds == expected["paused"] * 60
    if "next_change" in expected:
        assert outcome.next_change_at == (expected["next_change"] and at(expected["next_change"]))


def test_daylight_saving_row_in_utc():
    # Created 16:00 EDT (20:00 UTC) on Friday; due 10:00 EST (15:00 UTC) on Monday.
    outcome = compute(
        NEW_YORK,
        Targets(first_response=120),
        [Created(datetime(2026, 10, 30, 20))],
        datetime(2026, 10, 30, 20, 30),
    )
    assert outcome.first_response.deadline == datetime(2026, 11, 2, 15)


def test_the_expiring_share_is_configurable():
    events = [Created(local(OFFICE, "mon 09:00"))]
    outcome = compute(OFFICE, SLA, events, local(OFFICE, "mon 09:30"), expiring_share=0.5)
    assert outcome.first_response.state == ClockState.EXPIRING
    assert outcome.first_response.expiring_at == local(OFFICE, "mon 09:30")


def test_the_targets_in_force_are_returned():
    events = [Created(datetime(2026, 11, 9, 12)), TargetsChanged(datetime(2026, 11, 9, 13), Targets(30))]
    assert compute(OFFICE, SLA, events, datetime(2026, 11, 9, 14)).targets == Targets(30)


@pytest.mark.parametrize(
    ("events", "now", "share", "message"),
    [
        ([], datetime(2026, 11, 9, 12), 0.8, "starts with its creation"),
        ([StaffReply(datetime(2026, 11, 9, 12))], datetime(2026, 11, 9, 12), 0.8, "starts with its creation"),
        (
            [Created(datetime(2026, 11, 9, 12))],
            datetime(2026, 11, 9, 11),
            0.8,
            "before the ticket was created",
        ),
        (
            [
                Created(datetime(2026, 11, 9, 12)),
                StaffReply(datetime(2026, 11, 9, 13)),
                ClientReply(datetime(2026, 11, 9, 12)),
            ],
            datetime(2026, 11, 9, 14),
            0.8,
            "in the order it happened",
        ),
        (
            [Created(datetime(2026, 11, 9, 12)), Created(datetime(2026, 11, 9, 13))],
            datetime(2026, 11, 9, 14),
            0.8,
            "created once",
        ),
        ([Created(datetime(2026, 11, 9, 12))], datetime(2026, 11, 9, 12), 0, "expiring share"),
        ([Created(datetime(2026, 11, 9, 12))], datetime(2026, 11, 9, 12), 1.5, "expiring share"),
    ],
)
def test_a_wrong_history_is_refused_with_a_clear_message(events, now, share, message):
    with pytest.raises(ValueError, match=message):
        compute(OFFICE, SLA, events, now, expiring_share=share)


@pytest.mark.parametrize("minutes", [0, -5, 1.5])
def test_a_target_is_a_positive_number_of_minutes(minutes):
    with pytest.raises(ValueError, match="first response target must be a positive number of minutes"):
        Targets(first_response=minutes)


KINDS = st.sampled_from([StaffReply, ClientReply, PAUSE, OPEN, RESOLVE])
HISTORIES = st.lists(st.tuples(KINDS, st.integers(min_value=0, max_value=3 * 24 * 60)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(history=HISTORIES, later=st.integers(min_value=1, max_value=7 * 24 * 60))
def test_time_only_brings_a_running_clock_closer_to_breach(history, later):
    # Replayed at two instants, a running clock's deadline does not move and its state
    # only moves forward (pending -> expiring -> breached); the elapsed time never shrinks.
    created = local(OFFICE, "mon 09:00")
    events = [Created(created)] + [
        kind(created + timedelta(minutes=m)) for kind, m in sorted(history, key=lambda e: e[1])
    ]
    now = created + timedelta(minutes=max((m for _, m in history), default=0))
    before, after = (
        compute(OFFICE, SLA, events, now),
        compute(OFFICE, SLA, events, now + timedelta(minutes=later)),
    )
    order = [P, E, B]
    for name in ("first_response", "next_response", "resolution"):
        early, late = getattr(before, name), getattr(after, name)
        assert late.elapsed_seconds >= early.elapsed_seconds
        if early.running:
            assert late.deadline == early.deadline
            assert order.index(late.state) >= order.index(early.state)
            if before.next_change_at is not None and now + timedelta(minutes=later) < before.next_change_at:
                assert late.state == early.state
    assert after.paused_seconds >= before.paused_seconds

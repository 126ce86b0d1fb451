"""A ticket's SLA, stored: its history read from its timeline, its targets and calendar
picked, ``desk.sla.compute`` run, and the outcome written to the ticket's columns.

The ticket rules call :func:`refresh` after every change that matters to the SLA
(creation, a public reply by staff or by the client, a status, priority or desk
change); the sweep (``desk.sla_sweep``) calls it when an event is due, and
:func:`recompute_for_policy` when a policy's targets change.

What is read (``ticket_entries``, oldest first):

- the ticket's ``created_at``: the clocks start;
- a public reply: by staff when its author is a staff account, else by the client (a
  client user, or staff logged in as one);
- a status event (``event = {"type": "status", "before": <status id>, "after": <status id>}``,
  as :func:`status_event` writes it, optionally with a snapshot ``"pauses_sla"`` and
  ``"kind"`` of the new status, which wins over the status's current setting): the clock
  pauses while the status pauses the SLA, stops while its kind is finished (resolved,
  closed, merged). The status before the first status event (its ``"before"``), else the
  ticket's current status, is the status from creation.

Internal notes and other events do not move the clocks. The targets are the current
desk's policy for the current priority: an SLA change (policy, priority, desk) is
recomputed from the whole history (``desk.sla``'s rule). A client's plan may carry a
stricter policy (``plans.sla_policy_id``, of the same reseller): per target, the
stricter of the two applies (a target beats none), and the smaller expiring share. A
desk without a calendar counts every hour (24x7, no holidays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select

from auth.models import STAFF, Account
from billing.models import Plan
from core.business_hours import BusinessCalendar as Calendar
from core.extensions import db
from core.timeutil import utcnow
from desk import sla
from desk.models import BusinessCalendar, Desk, SlaPolicy, SlaTarget, TicketStatus
from desk.sla_models import TicketSlaNotice
from desk.states import (
    BLOCKING_KINDS,
    FINISHED_KINDS,
    ClockState,
    EntryKind,
    EventType,
    SlaClock,
    SlaState,
)
from desk.ticket_models import Ticket, TicketEntry
from tenant.models import Client

CLOCKS = tuple(SlaClock)
DUE_COLUMNS = {clock: f"{clock}_due_at" for clock in CLOCKS}
EXPIRING_COLUMNS = {clock: f"{clock}_expiring_at" for clock in CLOCKS}
RECOMPUTE_BATCH = 500
NO_TARGETS = (sla.Targets(), 100)


class Point(NamedTuple):
    """What a status does to the clocks."""

    pauses: bool
    resolves: bool


@dataclass(frozen=True)
class Line:
    """One timeline entry as the clocks see it."""

    at: datetime
    kind: str
    by_staff: bool = False
    event: dict | None = None


# --- pure rules ----------------------------------------------------------------------------


def status_event(before: TicketStatus | None, after: TicketStatus) -> dict:
    """The ``event`` of a status change's timeline entry, with the snapshot the clock reads."""
    return {
        "type": EventType.STATUS.value,
        "before": before.id if before is not None else None,
        "after": after.id,
        "kind": after.kind,
        "pauses_sla": bool(after.pauses_sla),
    }


def point_of(status: TicketStatus) -> Point:
    return Point(bool(status.pauses_sla), status.kind in FINISHED_KINDS)


def history(
    created_at: datetime, lines: Iterable[Line], current: Point, status_of: Callable[[object], Point | None]
) -> list[sla.Event]:
    """The ticket's history for ``desk.sla.compute`` (see the module's rules).

    ``status_of(status_id)``: the point of a status by id (``None``: unknown)."""
    events: list[sla.Event] = [sla.Created(created_at)]
    initial: Point | None = None
    seen_status = False
    for line in lines:
        at = max(line.at, created_at)
        event = line.event or {}
        if line.kind == EntryKind.PUBLIC_REPLY:
            events.append(sla.StaffReply(at) if line.by_staff else sla.ClientReply(at))
        elif line.kind == EntryKind.EVENT and event.get("type") == EventType.CREATED and "after" in event:
            initial = status_of(named_status_id(event["after"])) or initial
        elif line.kind == EntryKind.EVENT and event.get("type") == EventType.STATUS:
            if not seen_status and initial is None and named_status_id(event.get("before")) is not None:
                initial = status_of(named_status_id(event["before"]))
            seen_status = True
            point = _event_point(event, status_of)
            if point is not None:
                events.append(sla.StatusChanged(at, pauses=point.pauses, resolves=point.resolves))
    if not seen_status:
        initial = current
    if initial is not None and (initial.pauses or initial.resolves):
        events.insert(1, sla.StatusChanged(created_at, pauses=initial.pauses, resolves=initial.resolves))
    return events


def _event_point(event: dict, status_of) -> Point | None:
    if "pauses_sla" in event and "kind" in event:
        return Point(bool(event["pauses_sla"]), event["kind"] in FINISHED_KINDS)
    return status_of(named_status_id(event.get("after")))


def named_status_id(value):
    """A status event names its status by id, or (the ticket pages' entries) by
    ``{"status_id": id, "kind": ...}``; anything else names none."""
    if isinstance(value, dict):
        value = value.get("status_id")
    return value if isinstance(value, int) else None


def next_response_cycle(events: Iterable[sla.Event]) -> int:
    """How many next-response clocks the history opened (the current one's ordinal)."""
    cycles, answered, open_ = 0, False, False
    for event in events:
        if isinstance(event, sla.StaffReply):
            answered, open_ = True, False
        elif isinstance(event, sla.ClientReply) and answered and not open_:
            cycles, open_ = cycles + 1, True
    return cycles


def crossings(
    outcome: sla.SlaOutcome, events: list[sla.Event], now: datetime
) -> list[tuple[SlaClock, ClockState, int, datetime]]:
    """(clock, event, cycle, when) of every threshold a clock has crossed by ``now`` and
    still stands past (a clock met in time has none), the expiring before the breach."""
    clocks = (outcome.first_response, outcome.next_response, outcome.resolution)
    out = []
    for name, clock in zip(CLOCKS, clocks, strict=True):
        cycle = next_response_cycle(events) if name == SlaClock.NEXT_RESPONSE else 0
        crossed = clock.state in (ClockState.EXPIRING, ClockState.BREACHED)
        if crossed and clock.expiring_at is not None and clock.expiring_at <= now:
            out.append((name, ClockState.EXPIRING, cycle, clock.expiring_at))
        if clock.state == ClockState.BREACHED and clock.deadline is not None and clock.deadline <= now:
            out.append((name, ClockState.BREACHED, cycle, clock.deadline))
    return out


def stricter(desk: tuple[sla.Targets, int], plan: tuple[sla.Targets, int] | None) -> tuple[sla.Targets, int]:
    """Per target the stricter of the desk's and the plan's (a target beats none), and the
    smaller expiring percent."""
    if plan is None:
        return desk
    (a, a_percent), (b, b_percent) = desk, plan

    def pick(x: int | None, y: int | None) -> int | None:
        return y if x is None else x if y is None else min(x, y)

    targets = sla.Targets(
        pick(a.first_response, b.first_response),
        pick(a.next_response, b.next_response),
        pick(a.resolution, b.resolution),
    )
    return targets, min(a_percent, b_percent)


def aggregate(outcome: sla.SlaOutcome, current: Point) -> SlaState:
    """The ticket's SLA state: breached if any clock is, else expiring, else paused when the
    status pauses, else met when every clock that applies is met (or the ticket is
    finished), else ok."""
    states = [outcome.first_response.state, outcome.next_response.state, outcome.resolution.state]
    if ClockState.BREACHED in states:
        return SlaState.BREACHED
    if ClockState.EXPIRING in states:
        return SlaState.EXPIRING
    if current.pauses:
        return SlaState.PAUSED
    applicable = [state for state in states if state != ClockState.NOT_APPLICABLE]
    if applicable and (current.resolves or all(state == ClockState.MET for state in applicable)):
        return SlaState.MET
    return SlaState.OK


def targets_of(percent: int, target: SlaTarget | None) -> tuple[sla.Targets, int]:
    """A policy's (targets, expiring percent) for the priority of ``target`` (none: no targets)."""
    if target is None:
        return sla.Targets(), percent
    return sla.Targets(*((getattr(target, f"{clock}_minutes") or None) for clock in CLOCKS)), percent


def calendar_from(row: BusinessCalendar | None) -> Calendar:
    if row is None:
        return Calendar.round_the_clock()
    hours = {int(day): [tuple(pair) for pair in pairs] for day, pairs in (row.hours or {}).items()}
    return Calendar(
        hours,
        row.timezone,
        holidays=[d.day for d in row.dates],
        country="BR" if row.use_national_holidays else None,
    )


# --- the database --------------------------------------------------------------------------


@dataclass
class Context:
    """What a batch of refreshes (the sweep, a recompute) looks up once."""

    calendars: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)
    plan_policies: dict = field(default_factory=dict)
    desks: dict = field(default_factory=dict)
    # Preloaded by ``desk.sla_batch`` for a batch: each ticket's timeline and notices.
    timelines: dict = field(default_factory=dict)
    notices: dict = field(default_factory=dict)
    # Anything else a caller looks up once per batch (the sweep: recipients, mail identity).
    memo: dict = field(default_factory=dict)

    def desk(self, desk_id: int) -> tuple[int | None, int | None]:
        if desk_id not in self.desks:
            row = db.session.execute(
                select(Desk.sla_policy_id, Desk.calendar_id).where(Desk.id == desk_id)
            ).one()
            self.desks[desk_id] = tuple(row)
        return self.desks[desk_id]

    def calendar(self, calendar_id: int | None) -> Calendar:
        if calendar_id not in self.calendars:
            row = db.session.get(BusinessCalendar, calendar_id) if calendar_id else None
            self.calendars[calendar_id] = calendar_from(row)
        return self.calendars[calendar_id]

    def policy_targets(self, reseller_id: int, policy_id: int | None, priority: str):
        """(Targets, expiring percent) of ``policy_id`` for ``priority``; ``None``: no such policy."""
        key = (reseller_id, policy_id, priority)
        if key not in self.targets:
            found = None
            if policy_id is not None:
                row = db.session.execute(
                    select(SlaPolicy.expiring_percent, SlaTarget)
                    .outerjoin(
                        SlaTarget, (SlaTarget.policy_id == SlaPolicy.id) & (SlaTarget.priority == priority)
                    )
                    .where(SlaPolicy.id == policy_id, SlaPolicy.reseller_id == reseller_id)
                ).first()
                if row is not None:
                    found = targets_of(*row)
            self.targets[key] = found
        return self.targets[key]

    def plan_policy(self, client_id: int) -> int | None:
        if client_id not in self.plan_policies:
            self.plan_policies[client_id] = db.session.scalar(
                select(Plan.sla_policy_id)
                .join(Client, Client.plan_id == Plan.id)
                .where(Client.id == client_id)
            )
        return self.plan_policies[client_id]

    def status(self, status_id) -> Point | None:
        if not isinstance(status_id, int):
            return None
        if status_id not in self.statuses:
            row = db.session.get(TicketStatus, status_id)
            self.statuses[status_id] = point_of(row) if row is not None else None
        return self.statuses[status_id]


class Refreshed(NamedTuple):
    outcome: sla.SlaOutcome
    events: list
    current: Point


def timelines(ticket_ids: Iterable[int]) -> dict[int, list[Line]]:
    """The timeline of each ticket (every id a key), oldest first: one query."""
    found: dict[int, list[Line]] = {ticket_id: [] for ticket_id in ticket_ids}
    rows = db.session.execute(
        select(TicketEntry.ticket_id, TicketEntry.created_at, TicketEntry.kind)
        .add_columns(Account.kind, TicketEntry.event)
        .outerjoin(Account, Account.id == TicketEntry.author_account_id)
        .where(TicketEntry.ticket_id.in_(list(found)), TicketEntry.kind != EntryKind.INTERNAL_NOTE)
        .order_by(TicketEntry.ticket_id, TicketEntry.created_at, TicketEntry.id)
    )
    for ticket_id, at, kind, author_kind, event in rows:
        found[ticket_id].append(Line(at, kind, author_kind == STAFF, event))
    return found


def timeline(ticket_id: int) -> list[Line]:
    return timelines([ticket_id])[ticket_id]


def refresh(ticket: Ticket, *, now: datetime | None = None, context: Context | None = None) -> Refreshed:
    """Recompute ``ticket``'s SLA from its history and store it on the ticket (flushed
    with the caller's transaction). A threshold already crossed and not yet notified
    (``ticket_sla_notices``) keeps the ticket due for the sweep."""
    now = now or utcnow()
    context = context or Context()
    if ticket.id is None or ticket.created_at is None:
        db.session.flush()  # a ticket being created: its id and creation time
    policy_id, calendar_id = context.desk(ticket.desk_id)
    status_point = context.status(ticket.status_id) or Point(False, ticket.status_kind in FINISHED_KINDS)
    targets = context.policy_targets(ticket.reseller_id, policy_id, ticket.priority) or NO_TARGETS
    plan_policy = context.plan_policy(ticket.client_id)
    if plan_policy is not None and plan_policy != policy_id:
        targets = stricter(targets, context.policy_targets(ticket.reseller_id, plan_policy, ticket.priority))
    lines = context.timelines[ticket.id] if ticket.id in context.timelines else timeline(ticket.id)
    events = history(ticket.created_at, lines, status_point, context.status)
    outcome = sla.compute(
        context.calendar(calendar_id), targets[0], events, max(now, ticket.created_at), targets[1] / 100
    )
    for clock, result in zip(
        CLOCKS, (outcome.first_response, outcome.next_response, outcome.resolution), strict=True
    ):
        running = result.state != ClockState.MET
        setattr(ticket, DUE_COLUMNS[clock], result.deadline if running else None)
        setattr(ticket, EXPIRING_COLUMNS[clock], result.expiring_at if running else None)
    ticket.sla_paused_seconds = int(outcome.paused_seconds)
    ticket.sla_state = aggregate(outcome, status_point)
    due = unnotified(ticket.id, crossings(outcome, events, now), context.notices.get(ticket.id))
    if outcome.next_change_at is not None:
        due.append(outcome.next_change_at)
    ticket.sla_next_event_at = min(due, default=None)
    return Refreshed(outcome, events, status_point)


def unnotified(ticket_id: int | None, crossed: list, known: set | None = None) -> list[datetime]:
    """When each crossed threshold not notified yet was crossed: due for the sweep now.
    ``known``: the ticket's notices (clock, event, cycle), when already read."""
    if not crossed:
        return []
    if known is None and ticket_id is not None:
        rows = db.session.execute(
            select(TicketSlaNotice.clock, TicketSlaNotice.event, TicketSlaNotice.cycle).where(
                TicketSlaNotice.ticket_id == ticket_id
            )
        )
        known = {tuple(row) for row in rows}
    return [at for clock, event, cycle, at in crossed if (clock, event, cycle) not in (known or ())]


def affected_tickets(policy_id: int):
    """The unfinished tickets whose targets come from ``policy_id``: its desks' tickets and
    those of clients whose plan carries it. (A finished ticket keeps the SLA it was finished under.)"""
    desks = select(Desk.id).where(Desk.sla_policy_id == policy_id)
    clients = select(Client.id).join(Plan, Plan.id == Client.plan_id).where(Plan.sla_policy_id == policy_id)
    return select(Ticket).where(
        Ticket.status_kind.in_(BLOCKING_KINDS),
        or_(Ticket.desk_id.in_(desks), Ticket.client_id.in_(clients)),
    )


def recompute_for_policy(
    policy_id: int,
    *,
    batch_size: int = RECOMPUTE_BATCH,
    now: datetime | None = None,
    prepare: Callable[[list[Ticket]], Context] = lambda _tickets: Context(),
) -> int:
    """Refresh every unfinished ticket under ``policy_id``, ``batch_size`` at a time, each
    batch committed, with the Context ``prepare`` makes (sla_batch.preload); how many."""
    done, last_id = 0, 0
    while True:
        tickets = db.session.scalars(
            affected_tickets(policy_id).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch_size)
        ).all()
        if not tickets:
            return done
        context = prepare(tickets)
        for ticket in tickets:
            refresh(ticket, now=now, context=context)
        last_id = tickets[-1].id
        done += len(tickets)
        db.session.commit()

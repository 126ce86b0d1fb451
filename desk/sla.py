"""The SLA clock of a ticket: its deadlines computed from its history. Pure and deterministic.

``compute(calendar, targets, events, now)`` replays a ticket's history on a business
calendar and returns three clocks (first response, next response, resolution), the
business time the clocks stood still, and the next instant at which a clock changes
state (becomes expiring or breached) for a sweep to index. Nothing is read or written:
the caller stores what it needs.

The rules (all times are business time on ``calendar``):

- **First response**: from creation to the first staff public reply.
- **Next response**: each client reply that comes after a staff public reply, while no
  next-response clock is open, opens one; the next staff public reply closes it. More
  client replies meanwhile do not restart it. The result is the open clock, or else
  the last closed one.
- **Resolution**: from creation to a status that resolves (the caller's kinds
  resolved, closed or merged). A status that does not resolve reopens it: the clock
  runs on from where it stood, elapsed time kept.
- **Pauses**: while the status pauses (waiting on client...) or resolves, every clock
  stands still; the stopped time is ``paused_seconds`` and pushes deadlines later.
- **Targets**: in business minutes, ``None`` for none. The targets in force at
  ``now`` (the last ``TargetsChanged`` at or before ``now``, else ``targets``) apply to
  the whole history: an SLA change recomputes every clock from the ticket's creation
  with the new targets, so a stricter SLA can make a ticket breached at once, and a
  closed clock's outcome (met or breached) is judged again against the new target.
- **States**: a running clock is *pending*, *expiring* once ``expiring_share`` of its
  target (rounded to the second) is used, *breached* once all of it is (at the deadline itself). A clock
  stopped by its reply or resolution is *met* when it used at most its target (a reply
  in the deadline's last second is in time), else *breached*. No target or not
  started: *not applicable*.
- **Deadlines**: a running clock's deadline is the instant its target is used up if
  nothing else happens; a paused one's is where it would fall were it resumed at
  ``now`` (it moves while the pause lasts, so it is not a state change to index); a
  met clock has none; a breached one keeps the instant it was breached.

Events are given in the order they happened (equal instants allowed, applied in the
given order), starting with ``Created``; events after ``now`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.business_hours import BusinessCalendar
from desk.states import ClockState

DEFAULT_EXPIRING_SHARE = 0.8


@dataclass(frozen=True)
class Targets:
    """SLA targets in business minutes; ``None`` where the SLA sets none."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None

    def __post_init__(self) -> None:
        for name in ("first_response", "next_response", "resolution"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"the {name.replace('_', ' ')} target must be a positive number of minutes")


@dataclass(frozen=True)
class Created:
    at: datetime


@dataclass(frozen=True)
class StaffReply:
    """A public reply by staff (internal notes are not events of the clock)."""

    at: datetime


@dataclass(frozen=True)
class ClientReply:
    at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """The ticket moved to a status that ``pauses`` the clock and/or ``resolves`` the
    ticket (kinds resolved, closed, merged); neither: the clocks run (new, open...)."""

    at: datetime
    pauses: bool = False
    resolves: bool = False


@dataclass(frozen=True)
class TargetsChanged:
    at: datetime
    targets: Targets


Event = Created | StaffReply | ClientReply | StatusChanged | TargetsChanged


@dataclass(frozen=True)
class Clock:
    """One clock at ``now``. ``running``: counting at ``now`` (started, not stopped, not paused)."""

    state: ClockState
    deadline: datetime | None = None
    expiring_at: datetime | None = None
    elapsed_seconds: float = 0.0
    running: bool = False


NOT_APPLICABLE = Clock(ClockState.NOT_APPLICABLE)


@dataclass(frozen=True)
class SlaOutcome:
    targets: Targets
    first_response: Clock
    next_response: Clock
    resolution: Clock
    paused_seconds: float
    next_change_at: datetime | None


class _Timer:
    """A clock being replayed: elapsed business seconds and the instants its two
    thresholds (expiring, target) were crossed."""

    __slots__ = ("crossed", "elapsed", "stopped", "thresholds")

    def __init__(self, target_minutes: int, share: float) -> None:
        target = timedelta(minutes=target_minutes)
        self.thresholds = (timedelta(seconds=round(target.total_seconds() * share)), target)
        self.crossed: list[datetime | None] = [None, None]
        self.elapsed = timedelta(0)
        self.stopped = False

    def advance(self, calendar: BusinessCalendar, start: datetime, amount: timedelta) -> None:
        """Count ``amount`` of running time beginning at ``start``."""
        for index, threshold in enumerate(self.thresholds):
            need = threshold - self.elapsed
            if self.crossed[index] is None and need <= amount:
                self.crossed[index] = calendar.add_business_time(start, need)
        self.elapsed += amount

    def clock(self, calendar: BusinessCalendar, now: datetime, running: bool) -> Clock:
        """The clock at ``now``, everything up to ``now`` counted; a threshold not yet
        crossed falls where the business time it still needs runs out after ``now``."""
        elapsed = self.elapsed.total_seconds()
        if self.stopped and self.elapsed <= self.thresholds[1]:
            return Clock(ClockState.MET, elapsed_seconds=elapsed)
        expiring_at, deadline = (
            crossed if crossed is not None else calendar.add_business_time(now, threshold - self.elapsed)
            for crossed, threshold in zip(self.crossed, self.thresholds, strict=True)
        )
        if self.stopped or deadline <= now:
            state = ClockState.BREACHED
        elif expiring_at <= now:
            state = ClockState.EXPIRING
        else:
            state = ClockState.PENDING
        return Clock(state, deadline, expiring_at, elapsed, running)


def targets_in_force(targets: Targets, events: list[Event], now: datetime) -> Targets:
    """The targets of the last ``TargetsChanged`` at or before ``now``, else ``targets``."""
    for event in reversed(events):
        if isinstance(event, TargetsChanged) and event.at <= now:
            return event.targets
    return targets


def _check(events: list[Event], now: datetime) -> None:
    if not events or not isinstance(events[0], Created):
        raise ValueError("a ticket's history starts with its creation")
    if now < events[0].at:
        raise ValueError("now is before the ticket was created")
    for previous, event in zip(events, events[1:], strict=False):
        if event.at < previous.at:
            raise ValueError("a ticket's history must be in the order it happened")
        if isinstance(event, Created):
            raise ValueError("a ticket is created once")


def compute(
    calendar: BusinessCalendar,
    targets: Targets,
    events: list[Event],
    now: datetime,
    expiring_share: float = DEFAULT_EXPIRING_SHARE,
) -> SlaOutcome:
    """The ticket's SLA at ``now`` from its history (see the module's rules)."""
    if not 0 < expiring_share <= 1:
        raise ValueError("the expiring share must be above 0 and at most 1")
    _check(events, now)
    targets = targets_in_force(targets, events, now)

    def timer(minutes: int | None) -> _Timer | None:
        return _Timer(minutes, expiring_share) if minutes is not None else None

    first, resolution = timer(targets.first_response), timer(targets.resolution)
    next_response: _Timer | None = None
    answered = held = False
    paused = timedelta(0)
    since = events[0].at

    def running() -> list[_Timer]:
        return [t for t in (first, next_response, resolution) if t is not None and not t.stopped]

    for event in events[1:]:
        if event.at > now:
            break
        if event.at > since:
            amount = calendar.business_time(since, event.at)
            if held:
                paused += amount
            else:
                for clock in running():
                    clock.advance(calendar, since, amount)
            since = event.at
        if isinstance(event, StaffReply):
            answered = True
            for clock in (first, next_response):
                if clock is not None:
                    clock.stopped = True
        elif isinstance(event, ClientReply):
            if (
                answered
                and targets.next_response is not None
                and (next_response is None or next_response.stopped)
            ):
                next_response = timer(targets.next_response)
        elif isinstance(event, StatusChanged):
            held = event.pauses or event.resolves
            if resolution is not None:
                resolution.stopped = event.resolves

    amount = calendar.business_time(since, now)
    if held:
        paused += amount
    clocks = []
    for current in (first, next_response, resolution):
        if current is None:
            clocks.append(NOT_APPLICABLE)
            continue
        counting = not current.stopped and not held
        if counting:
            current.advance(calendar, since, amount)
        clocks.append(current.clock(calendar, now, running=counting))
    upcoming = [
        at
        for clock in clocks
        if clock.running
        for at in (clock.expiring_at, clock.deadline)
        if at is not None and at > now
    ]
    next_change = min(upcoming, default=None)
    return SlaOutcome(targets, *clocks, paused_seconds=paused.total_seconds(), next_change_at=next_change)

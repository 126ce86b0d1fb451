"""A batch of tickets' SLA inputs, read at once: what ``desk.sla_state.refresh`` reads of
each ticket (its desk's policy and calendar, its client's plan policy, the targets, the
statuses its timeline names, the timeline itself and the notices already sent), loaded
for a whole batch in a fixed number of ``IN (...)`` queries, not one chain of queries a
ticket. The sweep (``desk.sla_sweep``) refreshes its batches from it.

The result is a :class:`desk.sla_state.Context` filled as refreshing the tickets one by
one would fill it: what it holds is what those single queries return (a missing row is
recorded as missing), so a batch refresh stores the same as a ticket's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing.models import Plan
from core.extensions import db
from desk.models import BusinessCalendar, Desk, SlaPolicy, SlaTarget, TicketStatus
from desk.sla_models import TicketSlaNotice
from desk.sla_state import Context, calendar_from, named_status_id, point_of, targets_of, timelines
from desk.ticket_models import Ticket
from tenant.models import Client


def preload(tickets: Sequence[Ticket], context: Context | None = None) -> Context:
    """``context`` (a new one by default) holding everything refreshing ``tickets`` reads."""
    context = context or Context()
    if not tickets:
        return context
    ids = [ticket.id for ticket in tickets]
    load_desks(context, {ticket.desk_id for ticket in tickets})
    load_plan_policies(context, {ticket.client_id for ticket in tickets})
    load_targets(context, tickets)
    load_calendars(context, {calendar_id for _policy, calendar_id in context.desks.values()})
    context.timelines.update(timelines(ids))
    load_statuses(context, tickets)
    load_notices(context, ids)
    return context


def load_desks(context: Context, desk_ids: Iterable[int]) -> None:
    rows = db.session.execute(
        select(Desk.id, Desk.sla_policy_id, Desk.calendar_id).where(Desk.id.in_(sorted(desk_ids)))
    )
    context.desks.update({desk_id: (policy_id, calendar_id) for desk_id, policy_id, calendar_id in rows})


def load_plan_policies(context: Context, client_ids: set[int]) -> None:
    rows = dict(
        db.session.execute(
            select(Client.id, Plan.sla_policy_id)
            .join(Plan, Plan.id == Client.plan_id)
            .where(Client.id.in_(sorted(client_ids)))
        ).all()
    )
    context.plan_policies.update({client_id: rows.get(client_id) for client_id in client_ids})


def load_targets(context: Context, tickets: Sequence[Ticket]) -> None:
    """The targets of each ticket's desk policy and plan policy, for its priority; a policy
    of another reseller is no policy (as ``Context.policy_targets`` reads it)."""
    wanted = set()
    for ticket in tickets:
        desk_policy = context.desks[ticket.desk_id][0] if ticket.desk_id in context.desks else None
        for policy_id in (desk_policy, context.plan_policies.get(ticket.client_id)):
            wanted.add((ticket.reseller_id, policy_id, ticket.priority))
    policy_ids = sorted({policy_id for _reseller, policy_id, _priority in wanted if policy_id is not None})
    policies = {
        policy_id: (reseller_id, percent)
        for policy_id, reseller_id, percent in db.session.execute(
            select(SlaPolicy.id, SlaPolicy.reseller_id, SlaPolicy.expiring_percent).where(
                SlaPolicy.id.in_(policy_ids)
            )
        )
    }
    targets = {
        (row.policy_id, row.priority): row
        for row in db.session.scalars(select(SlaTarget).where(SlaTarget.policy_id.in_(policy_ids)))
    }
    for reseller_id, policy_id, priority in wanted:
        found = None
        owner, percent = policies.get(policy_id, (None, None))
        if policy_id is not None and owner == reseller_id:
            found = targets_of(percent, targets.get((policy_id, priority)))
        context.targets[reseller_id, policy_id, priority] = found


def load_calendars(context: Context, calendar_ids: set[int | None]) -> None:
    rows = db.session.scalars(
        select(BusinessCalendar)
        .where(BusinessCalendar.id.in_(sorted(i for i in calendar_ids if i)))
        .options(selectinload(BusinessCalendar.dates))
    )
    found = {row.id: row for row in rows}
    for calendar_id in calendar_ids:
        context.calendars[calendar_id] = calendar_from(found.get(calendar_id) if calendar_id else None)


def load_statuses(context: Context, tickets: Sequence[Ticket]) -> None:
    """Each ticket's current status and every status its timeline's events name."""
    ids = {ticket.status_id for ticket in tickets}
    for lines in context.timelines.values():
        for line in lines:
            if isinstance(line.event, dict):
                ids.update(named_status_id(line.event.get(key)) for key in ("before", "after"))
    ids = {status_id for status_id in ids if isinstance(status_id, int)}
    rows = {row.id: row for row in db.session.scalars(select(TicketStatus).where(TicketStatus.id.in_(ids)))}
    for status_id in ids:
        context.statuses[status_id] = point_of(rows[status_id]) if status_id in rows else None


def load_notices(context: Context, ticket_ids: list[int]) -> None:
    """The (clock, event, cycle) already notified of each ticket."""
    known: dict[int, set] = {ticket_id: set() for ticket_id in ticket_ids}
    rows = db.session.execute(
        select(
            TicketSlaNotice.ticket_id, TicketSlaNotice.clock, TicketSlaNotice.event, TicketSlaNotice.cycle
        ).where(TicketSlaNotice.ticket_id.in_(ticket_ids))
    )
    for ticket_id, clock, event, cycle in rows:
        known[ticket_id].add((clock, event, cycle))
    context.notices.update(known)

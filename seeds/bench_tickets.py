"""The bench data's service desks and tickets (issue 13, Speed): three desks per bench
reseller with an SLA policy and an office-hours calendar, a dozen staff on them, every
client linked, and in the bench reseller ``tickets`` tickets (default 1,000,000) with
about three timeline entries each, written with :class:`seeds.bench_writer.BulkWriter`.

The shape: 60 % finished (resolved, closed, a few merged), the rest new, open, waiting
(on the client or a third party) or pending review; priorities mostly normal; finished
tickets spread over the last year, unfinished ones over the last 30 days; an assignee on
all but most new tickets. Timeline: the creation event, then (all but new tickets) the
assignee's public reply, then a client reply or the status change to the current status.

SLA columns: an unfinished ticket's are computed by ``desk.sla.compute`` from that same
history on the desk's calendar (exact, ~0.1 ms a ticket). A finished ticket's are a fast
approximation: its clocks stopped, no due dates and no next event, and *breached* when
its first reply came later than the first-response target in wall-clock minutes (an
over-estimate of business time), else *met*. The thresholds unfinished tickets crossed
before the load are recorded as notified (``ticket_sla_notices``), as a running sweep
would have left them, so a refresh agrees with the load and the first sweep sends nothing old.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select

from auth.models import STAFF, Account, Login
from core.business_hours import BusinessCalendar as Calendar
from core.extensions import db
from core.timeutil import utcnow
from desk import sla
from desk.models import BusinessCalendar, Desk, DeskClient, DeskStaff, SlaPolicy, SlaTarget, TicketStatus
from desk.sla_models import TicketSlaNotice
from desk.sla_state import Point, aggregate, crossings
from desk.states import FINISHED_KINDS, ClockState, EntryKind, EventType, Priority, SlaState, StatusKind
from desk.ticket_models import PRIORITY_RANKS, Ticket, TicketCounter, TicketEntry
from tenant.models import Client, fold

DESKS = ("Suporte", "Financeiro", "Comercial")
STAFF_PER_RESELLER = 12
OFFICE_HOURS = {str(day): [["08:00", "18:00"]] for day in range(5)}
# Minutes: first response, next response, resolution.
TARGETS = {
    Priority.URGENT: (30, 60, 240),
    Priority.HIGH: (60, 120, 480),
    Priority.NORMAL: (240, 480, 1440),
    Priority.LOW: (480, 960, 2880),
}
KIND_WEIGHTS = {
    StatusKind.NEW: 8,
    StatusKind.OPEN: 18,
    StatusKind.WAITING_ON_CLIENT: 8,
    StatusKind.WAITING_ON_THIRD_PARTY: 3,
    StatusKind.PENDING_REVIEW: 3,
    StatusKind.RESOLVED: 15,
    StatusKind.CLOSED: 43,
    StatusKind.MERGED: 2,
}
PRIORITY_WEIGHTS = {Priority.LOW: 20, Priority.NORMAL: 55, Priority.HIGH: 20, Priority.URGENT: 5}
SUBJECTS = (
    "Não consigo acessar o painel", "Dúvida sobre a fatura", "Erro ao enviar mensagem",
    "Alterar dados cadastrais", "Pedido de novo usuário", "Boleto não chegou", "Integração parou",
    "Cancelar pacote extra", "Sessões acabaram antes do fim do mês", "Mudança de plano",
    "Relatório com valores errados", "Lentidão no atendimento", "Como exportar contatos",
)  # fmt: skip
TICKET_COLUMNS = (
    "id", "reseller_id", "number", "desk_id", "client_id", "requester_account_id", "subject",
    "subject_search", "description", "priority", "priority_rank", "status_id", "status_kind",
    "assignee_account_id",
    "field_values", "created_at", "updated_at", "last_activity_at", "first_responded_at",
    "awaiting_reply_since", "resolved_at", "closed_at", "reopened_count", "first_response_due_at",
    "next_response_due_at", "resolution_due_at", "first_response_expiring_at",
    "next_response_expiring_at", "resolution_expiring_at", "sla_paused_seconds", "sla_state",
    "sla_next_event_at",
)  # fmt: skip
NOTICE_COLUMNS = (
    "reseller_id", "client_id", "ticket_id", "clock", "event", "cycle", "occurred_at", "notified_at",
)  # fmt: skip
ENTRY_COLUMNS = (
    "reseller_id", "client_id", "ticket_id", "kind", "author_account_id", "body", "event", "created_at",
)  # fmt: skip


class Setup(NamedTuple):
    """A bench reseller's desks, staff, statuses and calendar, as the tickets need them."""

    reseller_id: int
    desk_ids: list[int]
    staff_ids: list[int]
    statuses: dict  # kind -> (id, pauses_sla)
    calendar: Calendar


class Decided(NamedTuple):
    """One ticket, decided before any row is written (both passes regenerate it)."""

    number: int
    client: int  # index into the clients
    desk_id: int
    kind: StatusKind
    priority: Priority
    assignee: int | None
    created: datetime
    replied: datetime | None  # the assignee's public reply
    then: datetime | None  # the client's reply (open) or the status change (other kinds)
    subject: str


def desks_for(reseller_id: int, password_hash: str) -> Setup:
    """Desks, an SLA policy and calendar, staff on every desk (ORM: a handful of rows)."""
    calendar = BusinessCalendar(reseller_id=reseller_id, name="Horário comercial", hours=OFFICE_HOURS)
    policy = SlaPolicy(reseller_id=reseller_id, name="Padrão")
    db.session.add_all([calendar, policy])
    db.session.flush()
    db.session.add_all(
        SlaTarget(
            reseller_id=reseller_id,
            policy_id=policy.id,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for priority, (first, following, resolution) in TARGETS.items()
    )
    desks = [
        Desk(reseller_id=reseller_id, name=name, sla_policy_id=policy.id, calendar_id=calendar.id)
        for name in DESKS
    ]
    db.session.add_all(desks)
    now = utcnow()
    logins = [
        Login(reseller_id=reseller_id, email=f"atendente{k}.{reseller_id}@bench.test",
              password_hash=password_hash, verified_at=now)
        for k in range(STAFF_PER_RESELLER)
    ]  # fmt: skip
    db.session.add_all(logins)
    db.session.flush()
    staff = [
        Account(reseller_id=reseller_id, login_id=login.id, kind=STAFF, name=f"Atendente {k + 1}")
        for k, login in enumerate(logins)
    ]
    db.session.add_all(staff)
    db.session.flush()
    db.session.add_all(
        DeskStaff(desk_id=desk.id, account_id=account.id, reseller_id=reseller_id)
        for desk in desks
        for account in staff
    )
    rows = db.session.execute(
        select(TicketStatus.kind, TicketStatus.id, TicketStatus.pauses_sla).where(
            TicketStatus.reseller_id == reseller_id, TicketStatus.is_default
        )
    ).all()
    db.session.flush()
    return Setup(
        reseller_id,
        [d.id for d in desks],
        [a.id for a in staff],
        {StatusKind(kind): (status_id, pauses) for kind, status_id, pauses in rows},
        Calendar({int(day): [tuple(p) for p in pairs] for day, pairs in OFFICE_HOURS.items()}),
    )


class TicketData:
    """One reseller's desk links, tickets and timeline."""

    def __init__(self, writer, setup: Setup, seed: int) -> None:
        self.w = writer
        self.s = setup
        self.seed = seed
        self.now = utcnow().replace(microsecond=0)
        self.clients = db.session.execute(
            select(Client.id, Client.responsible_account_id)
            .where(Client.reseller_id == setup.reseller_id, Client.deleted_at.is_(None))
            .order_by(Client.id)
        ).all()
        self.counts: dict[str, int] = {}
        self.notices: list[tuple] = []

    def link_clients(self) -> None:
        rows = (
            (self.s.reseller_id, desk_id, client_id, self.now)
            for desk_id in self.s.desk_ids
            for client_id, _account in self.clients
        )
        columns = ("reseller_id", "desk_id", "client_id", "linked_at")
        self.counts["desk links"] = self.w.write(DeskClient.__table__, columns, rows)

    def fill(self, tickets: int) -> None:
        self.link_clients()
        if not tickets or not self.clients:
            return
        first = self.w.reserve(Ticket.__table__, tickets)
        self.counts["tickets"] = self.w.write(
            Ticket.__table__, TICKET_COLUMNS, self._ticket_rows(first, tickets)
        )
        self.counts["ticket entries"] = self.w.write(
            TicketEntry.__table__, ENTRY_COLUMNS, self._entry_rows(first, tickets)
        )
        self.counts["SLA notices"] = self.w.write(TicketSlaNotice.__table__, NOTICE_COLUMNS, self.notices)
        db.session.add(TicketCounter(reseller_id=self.s.reseller_id, last_number=tickets))
        db.session.flush()

    def _decide(self, tickets: int) -> Iterator[Decided]:
        """Every ticket: finished ones over the last year, unfinished ones over the last
        30 days, the n-th ticket at about n/N of its span (numbers follow time loosely)."""
        rng = random.Random(self.seed)
        kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        priorities, priority_weights = list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values())
        year, month = 365 * 86400, 30 * 86400
        for number in range(1, tickets + 1):
            kind = rng.choices(kinds, kind_weights)[0]
            # Position in time: the k-th ticket of N at k/N of the span, with jitter.
            share = (number - rng.random()) / tickets
            span = month if kind not in FINISHED_KINDS else year
            created = self.now - timedelta(seconds=int(span * (1 - share)) + 60)
            priority = rng.choices(priorities, priority_weights)[0]
            assignee = None if kind == StatusKind.NEW and rng.random() < 0.8 else rng.choice(self.s.staff_ids)
            replied = then = None
            if kind != StatusKind.NEW:
                replied = created + timedelta(minutes=rng.randint(5, 600))
                then = replied + timedelta(minutes=rng.randint(10, 3000))
                limit = self.now - timedelta(seconds=1)
                replied, then = min(replied, limit), min(then, limit)
            yield Decided(
                number,
                rng.randrange(len(self.clients)),
                rng.choice(self.s.desk_ids),
                kind,
                priority,
                assignee,
                created,
                replied,
                then,
                f"{rng.choice(SUBJECTS)} ({number})",
            )

    def _history(self, d: Decided) -> list:
        events: list = [sla.Created(d.created)]
        if d.replied is not None:
            events.append(sla.StaffReply(d.replied))
        if d.kind == StatusKind.OPEN and d.then is not None:
            events.append(sla.ClientReply(d.then))
        elif d.then is not None:
            pauses = self.s.statuses[d.kind][1]
            events.append(sla.StatusChanged(d.then, pauses=pauses, resolves=d.kind in FINISHED_KINDS))
        return events

    def _sla(self, d: Decided, ticket_id: int, client_id: int) -> tuple:
        """(the three deadlines, when each clock expires, paused seconds, state, next event); the
        thresholds crossed before the load count as notified (``self.notices``)."""
        first, following, resolution = TARGETS[d.priority]
        if d.kind in FINISHED_KINDS:  # the approximation (module docstring)
            late = (d.replied - d.created) > timedelta(minutes=first)
            return None, None, None, None, None, None, 0, SlaState.BREACHED if late else SlaState.MET, None
        events = self._history(d)
        outcome = sla.compute(self.s.calendar, sla.Targets(first, following, resolution), events, self.now)
        self.notices.extend(
            (self.s.reseller_id, client_id, ticket_id, clock, event, cycle, at, at)
            for clock, event, cycle, at in crossings(outcome, events, self.now)
        )
        pauses = self.s.statuses[d.kind][1]
        state = aggregate(outcome, Point(pauses, False))
        clocks = (outcome.first_response, outcome.next_response, outcome.resolution)
        dues = (c.deadline if c.state != ClockState.MET else None for c in clocks)
        expiring = (c.expiring_at if c.state != ClockState.MET else None for c in clocks)
        return (*dues, *expiring, int(outcome.paused_seconds), state, outcome.next_change_at)

    def _ticket_rows(self, first_id: int, tickets: int) -> Iterator[tuple]:
        reseller_id = self.s.reseller_id
        for d in self._decide(tickets):
            client_id, requester = self.clients[d.client]
            finished = d.kind in FINISHED_KINDS
            last = d.then or d.replied or d.created
            awaiting = d.then if d.kind == StatusKind.OPEN else None
            yield (
                first_id + d.number - 1, reseller_id, d.number, d.desk_id, client_id, requester, d.subject,
                fold(d.subject)[:200], "", d.priority, PRIORITY_RANKS[d.priority], self.s.statuses[d.kind][0],
                d.kind, d.assignee,
                "{}", d.created, last, last, d.replied, awaiting,
                d.then if d.kind == StatusKind.RESOLVED else None,
                d.then if finished and d.kind != StatusKind.RESOLVED else None, 0,
                *self._sla(d, first_id + d.number - 1, client_id),
            )  # fmt: skip

    def _entry_rows(self, first_id: int, tickets: int) -> Iterator[tuple]:
        reseller_id = self.s.reseller_id
        created_event = json.dumps({"type": EventType.CREATED.value})
        new_status = self.s.statuses[StatusKind.NEW][0]
        for d in self._decide(tickets):
            client_id, requester = self.clients[d.client]
            head = (reseller_id, client_id, first_id + d.number - 1)
            yield (*head, EntryKind.EVENT, requester, None, created_event, d.created)
            if d.replied is None:
                continue
            yield (*head, EntryKind.PUBLIC_REPLY, d.assignee, "Olá! Estamos verificando.", None, d.replied)
            if d.kind == StatusKind.OPEN:
                yield (*head, EntryKind.PUBLIC_REPLY, requester, "Obrigado, aguardo.", None, d.then)
                continue
            status_id, pauses = self.s.statuses[d.kind]
            event = {
                "type": EventType.STATUS.value,
                "before": new_status,
                "after": status_id,
                "kind": d.kind.value,
                "pauses_sla": pauses,
            }
            yield (*head, EntryKind.EVENT, d.assignee, None, json.dumps(event), d.then)


def analyze_tables() -> tuple[str, ...]:
    return (
        "desks", "desk_staff", "desk_clients", "sla_policies", "sla_targets", "business_calendars",
        "tickets", "ticket_entries", "ticket_counters", "ticket_sla_notices",
    )  # fmt: skip


def bench_desks_present(reseller_id: int) -> bool:
    return db.session.scalar(select(Desk.id).where(Desk.reseller_id == reseller_id).limit(1)) is not None


def load_tickets(writer, resellers: list[tuple[int, int]], password_hash: str, seed: int) -> dict[str, int]:
    """Desks for every ``(reseller_id, tickets)`` and that many tickets; returns the counts."""
    totals: dict[str, int] = {}
    for reseller_id, tickets in resellers:
        data = TicketData(writer, desks_for(reseller_id, password_hash), seed + reseller_id)
        data.fill(tickets)
        for key, value in data.counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals

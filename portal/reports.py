"""The client's ticket reports (issue 15, seed 004): over a period of local days, grouped
by day, week or month: tickets opened and resolved, by desk, status, priority and
requester; SLA compliance; ratings; sessions consumed.

Each report is one grouped query (``GROUP BY``) over the tickets of a *scope*: every
ticket of the client (:func:`client_scope`, the *reports* permission), or what a user
sees (the dashboard, ``portal.tickets.visible_select``). Days are local days counted by
``tenant.windows.local_day``, the rule the sessions per day already use; weeks and
months are folded from the days by ``portal.report_periods``. A report's rows are what its
page shows, its chart draws and its XLSX/CSV download holds (``portal.report_files``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from auth.models import Account
from billing.models import Plan
from core.extensions import db
from core.formatting import label
from desk.models import Desk, SlaTarget, TicketStatus
from desk.review_models import TicketRating
from desk.states import FINISHED_KINDS, Priority
from desk.statuses import PRIORITY_LABELS, client_status_name
from desk.ticket_models import Ticket
from portal.report_periods import Period, fold
from portal.states import Grouping, ReportName
from tenant.models import Client
from tenant.windows import local_day, sessions_per_day

SCORES = (1, 2, 3, 4, 5)


@dataclass
class Report:
    """One report: the rows its table shows, its chart draws (the ``series`` columns) and
    its download holds; ``footer``: a last row (a total, an average) the chart leaves out."""

    name: ReportName
    title: str
    columns: list[str]
    rows: list[list]
    chart: str = "bar"
    series: tuple[int, ...] = (1,)
    footer: list | None = None


# --- scopes and grouped counts --------------------------------------------------------


def client_scope(account: Account) -> ColumnElement:
    """Every ticket of the account's client (the *reports* permission is client-wide)."""
    return and_(Ticket.reseller_id == account.reseller_id, Ticket.client_id == account.client_id)


def _opened_in(scope: ColumnElement, period: Period) -> ColumnElement:
    return and_(scope, Ticket.created_at >= period.start, Ticket.created_at < period.end)


def per_day(scope: ColumnElement, column, period: Period) -> dict[date, int]:
    """Tickets of ``scope`` whose ``column`` (a time) falls on each local day of the period."""
    day = local_day(column).label("day")
    stmt = (
        select(day, func.count())
        .select_from(Ticket)
        .where(scope, column >= period.start, column < period.end)
        .group_by(day)
    )
    return dict(db.session.execute(stmt).all())


def tickets_by_period(scope: ColumnElement, period: Period) -> Report:
    opened = per_day(scope, Ticket.created_at, period)
    resolved = per_day(scope, Ticket.resolved_at, period)
    return Report(
        ReportName.TICKETS,
        _("Tickets by period"),
        [_("Period"), _("Opened"), _("Resolutions")],
        fold(period, [opened, resolved]),
        chart="line" if period.grouping == Grouping.DAY else "bar",
        series=(1, 2),
    )


def by_status(scope: ColumnElement, period: Period) -> Report:
    """Tickets opened in the period by the status they are in now, named as the client
    sees it (two statuses shown under one name are one row)."""
    rows = db.session.execute(
        select(TicketStatus, func.count())
        .join(Ticket, Ticket.status_id == TicketStatus.id)
        .where(_opened_in(scope, period))
        .group_by(TicketStatus.id)
        .order_by(TicketStatus.position, TicketStatus.id)
    ).all()
    counts: dict[str, int] = {}
    for status, count in rows:
        name = client_status_name(status)
        counts[name] = counts.get(name, 0) + count
    return Report(
        ReportName.STATUSES,
        _("Tickets by status"),
        [_("Status"), _("Tickets")],
        [[name, count] for name, count in counts.items()],
        chart="doughnut",
    )


def _named_counts(scope: ColumnElement, period: Period, name_column, key_column, join) -> list:
    count = func.count(Ticket.id)
    return db.session.execute(
        select(name_column, count)
        .select_from(Ticket)
        .outerjoin(*join)
        .where(_opened_in(scope, period))
        .group_by(key_column, name_column)
        .order_by(count.desc(), name_column)
    ).all()


def by_desk(scope: ColumnElement, period: Period) -> Report:
    rows = _named_counts(scope, period, Desk.name, Ticket.desk_id, (Desk, Desk.id == Ticket.desk_id))
    return Report(
        ReportName.DESKS,
        _("Tickets by desk"),
        [_("Desk"), _("Tickets")],
        [[name, count] for name, count in rows],
    )


def by_requester(scope: ColumnElement, period: Period) -> Report:
    rows = _named_counts(
        scope,
        period,
        Account.name,
        Ticket.requester_account_id,
        (Account, Account.id == Ticket.requester_account_id),
    )
    nobody = _("No requester (opened by the reseller)")
    return Report(
        ReportName.REQUESTERS,
        _("Tickets by requester"),
        [_("Requester"), _("Tickets")],
        [[name or nobody, count] for name, count in rows],
    )


def by_priority(scope: ColumnElement, period: Period) -> Report:
    counts = dict(
        db.session.execute(
            select(Ticket.priority, func.count()).where(_opened_in(scope, period)).group_by(Ticket.priority)
        ).all()
    )
    return Report(
        ReportName.PRIORITIES,
        _("Tickets by priority"),
        [_("Priority"), _("Tickets")],
        [[label(PRIORITY_LABELS[p]), counts.get(p, 0)] for p in Priority],
    )


# --- SLA ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockSummary:
    """One SLA clock over the period's tickets: met in time, breached, still running;
    the average wall-clock time it took (first response, resolution), in seconds."""

    met: int
    breached: int
    pending: int
    average_seconds: float | None

    @property
    def share_met(self) -> float | None:
        """Met among the decided (met or breached), 0 to 100; ``None`` when none is."""
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None

    @property
    def average_hours(self) -> float | None:
        return None if self.average_seconds is None else round(self.average_seconds / 3600, 1)

    @property
    def average_minutes(self) -> int | None:
        return None if self.average_seconds is None else round(self.average_seconds / 60)


def _seconds(later, earlier):
    """SQL for the seconds between two naive-UTC timestamps."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _count(condition) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _clock_columns(due, stopped, target, started_at, stopped_at, now: datetime) -> list:
    """met, breached, pending and the average time of one clock, as ``desk.sla_state``
    stores it: a clock met in time keeps no due time (nor does one without a target, so
    a met clock needs a target of the desk's or the plan's policy); a breached one keeps
    the instant it was breached; a running one its deadline."""
    return [
        _count(and_(stopped, due.is_(None), target)),
        _count(and_(due.is_not(None), or_(stopped, due <= now))),
        _count(and_(due.is_not(None), ~stopped, due > now)),
        func.avg(case((stopped_at.is_not(None), _seconds(stopped_at, started_at)))),
    ]


def sla_summary(scope: ColumnElement, period: Period, now: datetime) -> tuple[ClockSummary, ClockSummary]:
    """(first response, resolution) over the tickets opened in the period: one query."""
    desk_target, plan_target = aliased(SlaTarget), aliased(SlaTarget)
    responded = Ticket.first_responded_at.is_not(None)
    finished = Ticket.status_kind.in_(FINISHED_KINDS)
    has = {
        name: or_(getattr(desk_target, name).is_not(None), getattr(plan_target, name).is_not(None))
        for name in ("first_response_minutes", "resolution_minutes")
    }
    columns = [
        *_clock_columns(
            Ticket.first_response_due_at,
            responded,
            has["first_response_minutes"],
            Ticket.created_at,
            Ticket.first_responded_at,
            now,
        ),
        *_clock_columns(
            Ticket.resolution_due_at,
            finished,
            has["resolution_minutes"],
            Ticket.created_at,
            Ticket.resolved_at,
            now,
        ),
    ]
    row = db.session.execute(
        select(*columns)
        .select_from(Ticket)
        .join(Desk, Desk.id == Ticket.desk_id)
        .join(Client, Client.id == Ticket.client_id)
        .outerjoin(Plan, Plan.id == Client.plan_id)
        .outerjoin(
            desk_target,
            and_(desk_target.policy_id == Desk.sla_policy_id, desk_target.priority == Ticket.priority),
        )
        .outerjoin(
            plan_target,
            and_(plan_target.policy_id == Plan.sla_policy_id, plan_target.priority == Ticket.priority),
        )
        .where(_opened_in(scope, period))
    ).one()

    def clock(values) -> ClockSummary:
        met, breached, pending, average = values
        return ClockSummary(
            int(met), int(breached), int(pending), None if average is None else float(average)
        )

    return clock(row[:4]), clock(row[4:])


def sla_report(scope: ColumnElement, period: Period, now: datetime) -> Report:
    first, resolution = sla_summary(scope, period, now)
    rows = [
        [name, c.met, c.breached, c.pending, c.share_met, c.average_hours]
        for name, c in ((_("First response"), first), (_("Resolution"), resolution))
    ]
    return Report(
        ReportName.SLA,
        _("SLA compliance"),
        [_("Clock"), _("Met"), _("Breached"), _("Pending"), _("Met (%)"), _("Average time (hours)")],
        rows,
        series=(1, 2, 3),
    )


# --- ratings and sessions -------------------------------------------------------------


def rating_counts(scope: ColumnElement, period: Period) -> dict[int, int]:
    """Ratings given in the period to the scope's tickets, by score."""
    return dict(
        db.session.execute(
            select(TicketRating.score, func.count())
            .join(Ticket, Ticket.id == TicketRating.ticket_id)
            .where(scope, TicketRating.created_at >= period.start, TicketRating.created_at < period.end)
            .group_by(TicketRating.score)
        ).all()
    )


def average_score(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    return round(sum(score * n for score, n in counts.items()) / total, 2) if total else None


def ratings_report(scope: ColumnElement, period: Period) -> Report:
    counts = rating_counts(scope, period)
    average = average_score(counts)
    return Report(
        ReportName.RATINGS,
        _("Ratings"),
        [_("Score"), _("Ratings")],
        [[str(score), counts.get(score, 0)] for score in SCORES],
        footer=[_("Average"), average if average is not None else _("no ratings yet")],
    )


def sessions_report(account: Account, period: Period) -> Report:
    """Sessions (conversation windows) the client opened, per group of the period."""
    days = dict(sessions_per_day(account.client_id, period.first, period.last))
    return Report(
        ReportName.SESSIONS,
        _("Sessions consumed"),
        [_("Period"), _("Sessions")],
        fold(period, [days]),
    )


# --- the reports page -----------------------------------------------------------------

BUILDERS: dict[ReportName, Callable[[Account, Period, datetime], Report]] = {
    ReportName.TICKETS: lambda a, p, _now: tickets_by_period(client_scope(a), p),
    ReportName.DESKS: lambda a, p, _now: by_desk(client_scope(a), p),
    ReportName.STATUSES: lambda a, p, _now: by_status(client_scope(a), p),
    ReportName.PRIORITIES: lambda a, p, _now: by_priority(client_scope(a), p),
    ReportName.REQUESTERS: lambda a, p, _now: by_requester(client_scope(a), p),
    ReportName.SLA: lambda a, p, now: sla_report(client_scope(a), p, now),
    ReportName.RATINGS: lambda a, p, _now: ratings_report(client_scope(a), p),
    ReportName.SESSIONS: lambda a, p, _now: sessions_report(a, p),
}


def client_report(account: Account, name: str, period: Period, now: datetime) -> Report | None:
    """One report of the account's whole client; ``None`` for an unknown name."""
    if name not in tuple(ReportName):
        return None
    return BUILDERS[ReportName(name)](account, period, now)


def client_reports(account: Account, period: Period, now: datetime) -> list[Report]:
    """Every report of the account's whole client, in the page's order."""
    return [build(account, period, now) for build in BUILDERS.values()]

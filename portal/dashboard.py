"""The client's dashboard in the portal (issue 15, seed 004 "Dashboard de Tickets"): the
tickets of the last 30 local days that the user sees (its own and those it follows;
every ticket of the client with *see all the client's tickets*): opened and resolved per
day, by status and by desk, the first response and resolution against the SLA, the
average rating, and the latest tickets. The counts are the reports' (``portal.reports``)
over the user's scope instead of the whole client's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import selectinload

from auth.models import Account
from core.extensions import db
from desk.statuses import client_status_name
from desk.ticket_models import Ticket
from portal import report_periods, reports
from portal.report_periods import Period
from portal.reports import ClockSummary, Report
from portal.tickets import visible_select

LATEST = 8


@dataclass(frozen=True)
class Dashboard:
    period: Period
    per_day: Report
    by_status: Report
    by_desk: Report
    first_response: ClockSummary
    resolution: ClockSummary
    rating_average: float | None
    rating_count: int
    # The latest tickets, each with its status as the client sees it.
    latest: list[tuple[Ticket, str]]

    @property
    def opened(self) -> int:
        return sum(row[1] for row in self.per_day.rows)

    @property
    def resolved(self) -> int:
        return sum(row[2] for row in self.per_day.rows)


def build(account: Account, today: date, now: datetime) -> Dashboard:
    """The dashboard of ``account`` (a client user) for the 30 local days up to ``today``."""
    scope = visible_select(account).whereclause
    period = report_periods.default_period(today)
    first_response, resolution = reports.sla_summary(scope, period, now)
    ratings = reports.rating_counts(scope, period)
    latest = db.session.scalars(
        visible_select(account)
        .where(Ticket.created_at >= period.start)
        .options(selectinload(Ticket.status))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(LATEST)
    ).all()
    return Dashboard(
        period=period,
        per_day=reports.tickets_by_period(scope, period),
        by_status=reports.by_status(scope, period),
        by_desk=reports.by_desk(scope, period),
        first_response=first_response,
        resolution=resolution,
        rating_average=reports.average_score(ratings),
        rating_count=sum(ratings.values()),
        latest=[(ticket, client_status_name(ticket.status)) for ticket in latest],
    )

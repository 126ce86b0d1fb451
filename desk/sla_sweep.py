"""The SLA sweep: every minute, the tickets whose next SLA event (a clock becoming
expiring or breached) falls within the next minute are refreshed, and each new event
is e-mailed once to the ticket's assignee and the desk's staff.

"Once": the event is recorded in ``ticket_sla_notices`` (unique per ticket, clock,
event and cycle) with ON CONFLICT DO NOTHING before its e-mail is queued, in the same
transaction; a second sweep, or two at once, find the row there (or wait for the first
one's commit on its unique index) and send nothing. A clock found already breached
records its expiring event too, and only the breach is e-mailed.

It runs under the ``sla-sweep`` bypass (every reseller's tickets, ``core.scope``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.routing import BuildError

from auth.models import Account, Login
from core import branding
from core.extensions import db
from core.links import canonical_base, reseller_url
from core.mail import send_mail
from core.models import Reseller
from core.timeutil import utcnow
from desk import sla
from desk.models import DeskStaff
from desk.sla_models import TicketSlaNotice
from desk.sla_state import Context, Refreshed, crossings, refresh
from desk.states import ClockState, EntryKind, EventType, SlaClock
from desk.ticket_models import Ticket, TicketEntry

SWEEP_EVERY_SECONDS = 60
LOOKAHEAD = timedelta(seconds=SWEEP_EVERY_SECONDS)
BATCH = 500
# The staff ticket page (desk/views/ticket_page.py), on the reseller's canonical host.
TICKET_ENDPOINT = "desk_tickets.ticket_page"

CLOCK_LABELS = {
    SlaClock.FIRST_RESPONSE: _l("first response"),
    SlaClock.NEXT_RESPONSE: _l("next response"),
    SlaClock.RESOLUTION: _l("resolution"),
}


def due_ticket_ids(now: datetime, after_id: int = 0, limit: int = BATCH) -> list[int]:
    """Tickets with an SLA event due by ``now`` + one sweep period, by id after ``after_id``."""
    return list(
        db.session.scalars(
            select(Ticket.id)
            .where(
                Ticket.sla_next_event_at.is_not(None),
                Ticket.sla_next_event_at <= now + LOOKAHEAD,
                Ticket.id > after_id,
            )
            .order_by(Ticket.id)
            .limit(limit)
        )
    )


def sweep(now: datetime | None = None, *, batch_size: int = BATCH) -> int:
    """Refresh the due tickets and notify their new events, a batch per transaction;
    returns how many events were notified."""
    now = now or utcnow()
    sent, last_id = 0, 0
    while ids := due_ticket_ids(now, last_id, batch_size):
        context = Context()
        # A ticket being changed right now is skipped: its own refresh sees the event,
        # and keeps it due for the next sweep.
        tickets = db.session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update(skip_locked=True)
        ).all()
        for ticket in tickets:
            refreshed = refresh(ticket, now=now, context=context)
            ticket.sla_next_event_at = refreshed.outcome.next_change_at
            sent += notify(ticket, refreshed, now, context)
        db.session.commit()
        last_id = ids[-1]
    return sent


def sweep_job() -> int:
    """Periodic job (every minute, bypass ``sla-sweep``)."""
    return sweep()


def record(ticket: Ticket, clock: str, event: str, cycle: int, occurred_at: datetime) -> bool:
    """Insert the notice unless it is there; ``True`` when this call inserted it."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(TicketSlaNotice.__table__)
        .values(
            reseller_id=ticket.reseller_id,
            client_id=ticket.client_id,
            ticket_id=ticket.id,
            clock=clock,
            event=event,
            cycle=cycle,
            occurred_at=occurred_at,
            notified_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["ticket_id", "clock", "event", "cycle"])
        .returning(TicketSlaNotice.id)
    )
    return db.session.execute(statement).scalar() is not None


def notify(ticket: Ticket, refreshed: Refreshed, now: datetime, context: Context | None = None) -> int:
    """Record the ticket's events crossed by ``now``; e-mail the most severe new one of
    each clock. Returns how many events were new."""
    new = 0
    for clock, event, cycle, occurred_at in crossings(refreshed.outcome, refreshed.events, now):
        if not record(ticket, clock, event, cycle, occurred_at):
            continue
        new += 1
        db.session.add(
            TicketEntry(
                reseller_id=ticket.reseller_id,
                client_id=ticket.client_id,
                ticket_id=ticket.id,
                kind=EntryKind.EVENT,
                event={
                    "type": EventType.SLA.value,
                    "clock": clock.value,
                    "before": None,
                    "after": event.value,
                },
                created_at=now,
            )
        )
        breach_follows = (
            event == ClockState.EXPIRING and _clock(refreshed, clock).state == ClockState.BREACHED
        )
        if not breach_follows:
            _mail(ticket, clock, event, context or Context())
    return new


def _clock(refreshed: Refreshed, name: SlaClock) -> sla.Clock:
    return getattr(refreshed.outcome, name.value)


def recipients(ticket: Ticket) -> list[str]:
    """The assignee's and the desk staff's addresses (active accounts)."""
    ids = set(db.session.scalars(select(DeskStaff.account_id).where(DeskStaff.desk_id == ticket.desk_id)))
    if ticket.assignee_account_id is not None:
        ids.add(ticket.assignee_account_id)
    if not ids:
        return []
    # By id (a primary-key lookup each): an OR of IN and = would scan every account.
    emails = db.session.scalars(
        select(Login.email)
        .join(Account, Account.login_id == Login.id)
        .where(Account.id.in_(sorted(ids)), Account.reseller_id == ticket.reseller_id)
        .where(Account.active.is_(True))
    )
    return sorted(set(emails))


def ticket_link(reseller: Reseller, ticket: Ticket) -> str:
    try:
        return reseller_url(reseller, TICKET_ENDPOINT, ticket_id=ticket.id)
    except BuildError:  # an app built without the desk's pages (a job's bare app)
        return canonical_base(reseller)


def _mail(ticket: Ticket, clock: SlaClock, event: ClockState, context: Context) -> None:
    key = ("recipients", ticket.desk_id, ticket.assignee_account_id)
    if key not in context.memo:
        context.memo[key] = recipients(ticket)
    emails = context.memo[key]
    if not emails:
        return
    if ("reseller", ticket.reseller_id) not in context.memo:
        reseller = db.session.get(Reseller, ticket.reseller_id)
        context.memo["reseller", ticket.reseller_id] = (reseller, branding.mail_identity(reseller))
    reseller, identity = context.memo["reseller", ticket.reseller_id]
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pt_BR")):
        values = {"number": ticket.number, "clock": CLOCK_LABELS[clock], "subject": ticket.subject}
        if event == ClockState.BREACHED:
            subject = _("Ticket #%(number)s: %(clock)s SLA breached", **values)
            lead = _("The %(clock)s deadline of ticket #%(number)s (%(subject)s) has passed.", **values)
        else:
            subject = _("Ticket #%(number)s: %(clock)s SLA expiring", **values)
            lead = _("The %(clock)s deadline of ticket #%(number)s (%(subject)s) is close.", **values)
        action = _("Open the ticket")
        text = f"{lead}\n\n{action}: {ticket_link(reseller, ticket)}\n"
    for email in emails:
        send_mail(email, subject, text, **identity)

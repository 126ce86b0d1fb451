"""The SLA sweep: every minute, the tickets whose next SLA event (a clock becoming
expiring or breached) falls within the next minute are refreshed, and each new event
is e-mailed once to the ticket's assignee and the desk's staff.

"Once": the event is recorded in ``ticket_sla_notices`` (unique per ticket, clock,
event and cycle) with ON CONFLICT DO NOTHING before its e-mail is queued, in the same
transaction; a second sweep, or two at once, find the row there (or wait for the first
one's commit on its unique index) and send nothing. A clock found already breached
records its expiring event too, and only the breach is e-mailed.

A batch of due tickets costs a fixed number of queries, not a chain of them a ticket:
its inputs are read at once (``desk.sla_batch``), its notices inserted in one statement,
its timeline events in another.

The job is ``desk.tasks.sweep_sla``; it runs under the ``sla-sweep`` bypass (every
reseller's tickets, ``core.scope``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import flag_modified
from werkzeug.routing import BuildError

from auth.models import Account, Login
from core import branding
from core.extensions import db
from core.links import canonical_base, reseller_url
from core.mail import send_mail
from core.models import Reseller
from core.timeutil import utcnow
from desk import sla, sla_batch
from desk.models import DeskStaff
from desk.sla_models import TicketSlaNotice
from desk.sla_state import DUE_COLUMNS, EXPIRING_COLUMNS, Context, Refreshed, crossings, refresh
from desk.states import ClockState, EntryKind, EventType, SlaClock
from desk.ticket_models import Ticket, TicketEntry

SWEEP_EVERY_SECONDS = 60
LOOKAHEAD = timedelta(seconds=SWEEP_EVERY_SECONDS)
BATCH = 500
SLA_COLUMNS = (
    *DUE_COLUMNS.values(),
    *EXPIRING_COLUMNS.values(),
    "sla_paused_seconds",
    "sla_state",
    "sla_next_event_at",
)
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
        sent += sweep_batch(ids, now)
        db.session.commit()
        last_id = ids[-1]
    return sent


# The job's path in the previous release (now desk.tasks.sweep_sla); alias for one release.
sweep_job = sweep


def sweep_batch(ids: list[int], now: datetime) -> int:
    """Refresh the tickets ``ids`` and record and e-mail their new events, in a fixed
    number of queries whatever the batch's size (``desk.sla_batch``); the caller commits.
    Returns how many events were new."""
    tickets = lock(ids)
    context = sla_batch.preload(tickets)
    load_recipients(context, tickets)
    refreshed = []
    for ticket in tickets:
        result = refresh(ticket, now=now, context=context)
        ticket.sla_next_event_at = result.outcome.next_change_at
        refreshed.append((ticket, result))
    write_whole(tickets)
    return notify(refreshed, now, context)


def write_whole(tickets: list[Ticket]) -> None:
    """A changed ticket writes all its SLA columns: the batch's updates then share one
    statement (one executemany), not one per set of columns that happened to change."""
    for ticket in tickets:
        if db.session.is_modified(ticket):
            for column in SLA_COLUMNS:
                flag_modified(ticket, column)


def lock(ids: list[int]) -> list[Ticket]:
    """The tickets ``ids``, locked until the commit. A ticket being changed right now is
    skipped: its own refresh sees the event, and keeps it due for the next sweep."""
    return list(
        db.session.scalars(
            select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update(skip_locked=True)
        )
    )


def notify(refreshed: list[tuple[Ticket, Refreshed]], now: datetime, context: Context | None = None) -> int:
    """Record the events the tickets' clocks crossed by ``now``; e-mail the most severe
    new one of each clock. Returns how many events were new."""
    context = context or Context()
    crossed = [
        (ticket, result, crossing)
        for ticket, result in refreshed
        for crossing in crossings(result.outcome, result.events, now)
        if crossing[:3] not in context.notices.get(ticket.id, ())
    ]
    new = record([(ticket, *crossing) for ticket, _result, crossing in crossed])
    entries, mails = [], []
    for ticket, result, (clock, event, cycle, _at) in crossed:
        if (ticket.id, clock, event, cycle) not in new:
            continue
        entries.append(
            {
                "reseller_id": ticket.reseller_id,
                "client_id": ticket.client_id,
                "ticket_id": ticket.id,
                "kind": EntryKind.EVENT,
                "event": {
                    "type": EventType.SLA.value,
                    "clock": clock.value,
                    "before": None,
                    "after": event.value,
                },
                "created_at": now,
            }
        )
        breach_follows = event == ClockState.EXPIRING and _clock(result, clock).state == ClockState.BREACHED
        if not breach_follows:
            mails.append((ticket, clock, event))
    if entries:  # one statement for them all (nothing reads their ids back)
        db.session.execute(insert(TicketEntry), entries)
    if mails:
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pt_BR")):
            for ticket, clock, event in mails:
                _mail(ticket, clock, event, context)
    return len(new)


def record(events: list[tuple[Ticket, str, str, int, datetime]]) -> set[tuple[int, str, str, int]]:
    """Insert the notices (ticket, clock, event, cycle, occurred at) that are not there, in
    one statement; the (ticket id, clock, event, cycle) of those this call inserted."""
    if not events:
        return set()
    upsert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    notified_at = utcnow()
    rows = [
        {
            "reseller_id": ticket.reseller_id,
            "client_id": ticket.client_id,
            "ticket_id": ticket.id,
            "clock": clock,
            "event": event,
            "cycle": cycle,
            "occurred_at": occurred_at,
            "notified_at": notified_at,
        }
        for ticket, clock, event, cycle, occurred_at in events
    ]
    notice = TicketSlaNotice.__table__
    # Many parameter sets to one statement: sent as multi-row INSERTs (SQLAlchemy's
    # "insertmanyvalues"), compiled once; RETURNING gives back only the rows inserted.
    statement = (
        upsert(notice)
        .on_conflict_do_nothing(index_elements=["ticket_id", "clock", "event", "cycle"])
        .returning(notice.c.ticket_id, notice.c.clock, notice.c.event, notice.c.cycle)
    )
    return {tuple(row) for row in db.session.execute(statement, rows)}


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


def load_recipients(context: Context, tickets: list[Ticket]) -> None:
    """What :func:`recipients` and the mail's sender read, for every ticket at once: the
    desks' staff, the active accounts' addresses and the resellers."""
    if not tickets:
        return
    staff: dict[int, set[int]] = {ticket.desk_id: set() for ticket in tickets}
    for desk_id, account_id in db.session.execute(
        select(DeskStaff.desk_id, DeskStaff.account_id).where(DeskStaff.desk_id.in_(sorted(staff)))
    ):
        staff[desk_id].add(account_id)
    account_ids = set().union(*staff.values()) | {t.assignee_account_id for t in tickets} - {None}
    accounts = db.session.execute(
        select(Account.id, Account.reseller_id, Login.email)
        .join(Login, Login.id == Account.login_id)
        .where(Account.id.in_(sorted(account_ids)), Account.active.is_(True))
    ).all()
    addresses = {account_id: (reseller_id, email) for account_id, reseller_id, email in accounts}
    for ticket in tickets:
        ids = staff[ticket.desk_id] | ({ticket.assignee_account_id} - {None})
        found = (addresses[i] for i in ids if i in addresses)
        emails = {email for reseller_id, email in found if reseller_id == ticket.reseller_id}
        context.memo["recipients", ticket.desk_id, ticket.assignee_account_id] = sorted(emails)
    resellers = db.session.scalars(select(Reseller).where(Reseller.id.in_({t.reseller_id for t in tickets})))
    for reseller in resellers:
        context.memo["reseller", reseller.id] = (reseller, branding.mail_identity(reseller))


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
    # In the platform's default language: the caller forces it (once for a batch).
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
        send_mail(email, subject, text, **identity, automatic=True)

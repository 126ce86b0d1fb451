"""A resolved ticket's review by the client (issue 15): waiting for acceptance,
accepted (by a user, or by itself after the desk's timeout), or reopened with a reason.

On a desk with ``review_timeout_days``, staff resolving a ticket (its page's status, the
queue's bulk status) send it to the reseller's default "pending review" status until
``tickets.review_due_at``, and the requester and the client's followers are e-mailed a
link to it in the portal. Closing stays staff's explicit end (no review), and a desk
without review resolves as before; either way a ticket that becomes resolved e-mails its
requester the rating links (``desk.ratings``).

The requester, or a user of the client who sees all its tickets, accepts (the ticket is
resolved) or reopens with a reason (a public reply, within the desk's reopen window once
resolved). A client's plain reply reopens it too (``desk.replies``), and any status
change out of pending review clears the due time (``desk.ticket_changes``). Staff logged
in as the user may answer the review: the timeline records them as acting for the user.
The periodic ``desk.tasks.accept_due_reviews`` accepts what nobody answered in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from auth import permissions as perm
from auth.models import CLIENT_USER, STAFF, Account
from core.branding import mail_identity
from core.extensions import db
from core.formatting import datetime_br
from core.mail import in_product_language, send_mail
from core.models import Reseller
from core.timeutil import utcnow
from desk import merging, ratings
from desk.models import TicketStatus
from desk.replies import public_reply
from desk.review_models import TicketRating
from desk.states import EntryKind, EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status, may_reopen, reopen_deadline
from desk.ticket_mail import client_threading, client_ticket_url, recipients
from desk.ticket_models import Ticket, TicketEntry
from desk.tickets import MAX_BODY, TicketRefused, add_event, clean_text

BATCH = 200
# How often the periodic job accepts the reviews whose time passed.
REVIEW_SWEEP_SECONDS = 300


def has_review(ticket: Ticket) -> bool:
    """Whether the ticket's desk sends a resolution to the client's review."""
    return bool(ticket.desk.review_timeout_days)


def set_status(ticket: Ticket, status: TicketStatus) -> None:
    """Staff change the ticket's status: a resolution (or a "pending review" status
    picked) on a desk with review goes to the client's review; a desk without review has
    none to wait for; a ticket that becomes resolved otherwise is offered for rating."""
    if status.kind in (StatusKind.RESOLVED, StatusKind.PENDING_REVIEW) and has_review(ticket):
        if not awaits_review(ticket):
            send_to_review(ticket, status if status.kind == StatusKind.PENDING_REVIEW else None)
        elif status.kind == StatusKind.RESOLVED:
            raise TicketRefused(
                _("This ticket already awaits the client's review: close it to finish it without the review.")
            )
        else:  # another of the reseller's "pending review" statuses: the same review
            change_status(ticket, status)
        return
    if status.kind == StatusKind.PENDING_REVIEW:
        raise TicketRefused(_("This desk does not ask for the client's review: resolve the ticket instead."))
    before = ticket.status_id
    change_status(ticket, status)
    if ticket.status_id != before and status.kind == StatusKind.RESOLVED:
        ratings.send_rating_mail(ticket)


def bulk(tickets: list[Ticket], action: str, value=None) -> tuple[int, list[tuple[int, str]]]:
    """The queue's bulk action (``desk.merging.bulk``), its status changes made by staff
    as on the ticket page (:func:`set_status`)."""
    return merging.bulk(tickets, action, value, set_status=set_status)


def send_to_review(ticket: Ticket, status: TicketStatus | None = None) -> None:
    """The ticket waits for the client's review (in ``status``, else the reseller's
    default "pending review") until the desk's timeout; the requester and the client's
    followers are e-mailed."""
    change_status(ticket, status or default_status(ticket.reseller_id, StatusKind.PENDING_REVIEW))
    ticket.review_due_at = utcnow() + timedelta(days=ticket.desk.review_timeout_days)
    add_event(ticket, EventType.REVIEW, after={"due_at": ticket.review_due_at.isoformat(timespec="seconds")})
    _mail_review(ticket)


def may_answer(ticket: Ticket, account: Account | None) -> bool:
    """Whether ``account`` answers the ticket's review: its requester, or a user of its
    client who sees all the client's tickets."""
    if account is None or account.kind != CLIENT_USER or account.client_id != ticket.client_id:
        return False
    return account.id == ticket.requester_account_id or perm.ALL_TICKETS in (account.permissions or [])


def _not_yours() -> str:
    return _("Only the requester, or a user who sees all your company's tickets, answers this.")


def awaits_review(ticket: Ticket) -> bool:
    return ticket.status_kind == StatusKind.PENDING_REVIEW


def may_reopen_now(ticket: Ticket) -> bool:
    """Whether the client may reopen the ticket with a reason now: while it awaits the
    review, or once resolved or closed within the desk's reopen window."""
    if awaits_review(ticket):
        return True
    return ticket.status_kind in ratings.RATED_KINDS and may_reopen(ticket)


def accept(ticket: Ticket, account: Account | None = None) -> None:
    """The review is accepted: by ``account`` (a user who may answer it), or by itself
    when ``account`` is ``None`` (the desk's timeout). The ticket is resolved and its
    requester e-mailed the rating links."""
    if account is not None and not may_answer(ticket, account):
        raise TicketRefused(
            _("Only the requester, or a user who sees all your company's tickets, answers this.")
        )
    if not awaits_review(ticket):
        raise TicketRefused(_("This ticket is not awaiting review."))
    change_status(ticket, default_status(ticket.reseller_id, StatusKind.RESOLVED))
    add_event(
        ticket,
        EventType.ACCEPTED,
        after={"automatic": account is None, "account_id": account.id if account else None},
    )
    ratings.send_rating_mail(ticket)


def reopen(ticket: Ticket, account: Account, reason: str | None) -> TicketEntry:
    """The client turns the resolution down, with a reason (required): the reason is a
    public reply, which puts the ticket back in service (``desk.replies``)."""
    if not may_answer(ticket, account):
        raise TicketRefused(
            _("Only the requester, or a user who sees all your company's tickets, answers this.")
        )
    text = clean_text(reason, limit=MAX_BODY, label=_("Reason"))
    if not awaits_review(ticket) and ticket.status_kind not in ratings.RATED_KINDS:
        raise TicketRefused(_("This ticket is not resolved: reply to it instead."))
    if not may_reopen_now(ticket):
        raise TicketRefused(
            _(
                "This ticket was finished more than %(n)d days ago and cannot be reopened.",
                n=ticket.desk.reopen_window_days,
            )
        )
    return public_reply(ticket, text, account)


def reopen_until(ticket: Ticket) -> datetime | None:
    """Until when a resolved ticket may be reopened (``None`` while it awaits review)."""
    return None if awaits_review(ticket) else reopen_deadline(ticket)


@dataclass(frozen=True)
class ReviewState:
    """What the ticket pages show of the review and the rating (``account``: the client
    user looking, for what they may do; ``None`` for staff)."""

    awaiting: bool
    due_at: datetime | None
    accepted: TicketEntry | None
    accepted_by: Account | None
    acting_as: Account | None
    rating: TicketRating | None
    may_answer: bool
    may_reopen: bool
    reopen_until: datetime | None
    may_rate: bool

    @property
    def automatic(self) -> bool:
        return bool(self.accepted and (self.accepted.event or {}).get("after", {}).get("automatic"))


def review_state(ticket: Ticket, account: Account | None = None) -> ReviewState:
    awaiting = awaits_review(ticket)
    accepted = None
    if not awaiting:
        accepted = db.session.scalar(
            select(TicketEntry)
            .where(
                TicketEntry.ticket_id == ticket.id,
                TicketEntry.reseller_id == ticket.reseller_id,
                TicketEntry.kind == EntryKind.EVENT,
                TicketEntry.event["type"].as_string() == EventType.ACCEPTED.value,
            )
            .order_by(TicketEntry.id.desc())
            .limit(1)
        )
    ids = {accepted.author_account_id, accepted.acting_as_account_id} - {None} if accepted else set()
    people = {
        a.id: a
        for a in db.session.scalars(
            select(Account).where(Account.id.in_(ids), Account.reseller_id == ticket.reseller_id)
        )
    }
    answering = may_answer(ticket, account)
    return ReviewState(
        awaiting=awaiting,
        due_at=ticket.review_due_at if awaiting else None,
        accepted=accepted,
        accepted_by=people.get(accepted.author_account_id) if accepted else None,
        acting_as=people.get(accepted.acting_as_account_id) if accepted else None,
        rating=ratings.rating_of(ticket),
        may_answer=answering,
        may_reopen=answering and may_reopen_now(ticket),
        reopen_until=reopen_until(ticket),
        may_rate=ratings.may_rate(ticket, account),
    )


@in_product_language
def _mail_review(ticket: Ticket) -> int:
    """The requester's and the client's followers' e-mail: resolved, awaiting review."""
    people = [a for a in recipients(ticket, None) if a.kind != STAFF]
    if not people:
        return 0
    reseller = db.session.get(Reseller, ticket.reseller_id)
    link = client_ticket_url(reseller, ticket)
    subject = _("[#%(number)d] Resolved: please review", number=ticket.number)
    text = "\n\n".join(
        [
            _(
                "Ticket #%(number)d, %(subject)s, was resolved and awaits your review.",
                number=ticket.number,
                subject=ticket.subject,
            ),
            _(
                "Accept the resolution, or reopen the ticket saying why, by %(date)s; "
                "after that it is accepted automatically.",
                date=datetime_br(ticket.review_due_at),
            ),
            _("See the ticket: %(link)s", link=link),
        ]
    )
    identity = mail_identity(reseller) | client_threading(ticket)
    for account in people:
        send_mail(account.email, subject, text, **identity)
    return len(people)


# --- automatic acceptance ---------------------------------------------------------------


def due_ids(now: datetime, after_id: int = 0, limit: int = BATCH) -> list[int]:
    """Tickets whose review time passed by ``now``, by id after ``after_id``."""
    return list(
        db.session.scalars(
            select(Ticket.id)
            .where(Ticket.review_due_at.is_not(None), Ticket.review_due_at <= now, Ticket.id > after_id)
            .order_by(Ticket.id)
            .limit(limit)
        )
    )


def accept_due(now: datetime | None = None, *, batch_size: int = BATCH) -> int:
    """Accept every ticket whose review time passed, a batch per transaction; a ticket
    being changed right now is skipped (FOR UPDATE SKIP LOCKED on PostgreSQL) and found
    by the next run if it still waits. Idempotent; returns how many were accepted."""
    now = now or utcnow()
    accepted, last_id = 0, 0
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pt_BR")):
        while ids := due_ids(now, last_id, batch_size):
            locked = db.session.scalars(
                select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update(skip_locked=True)
            )
            for ticket in locked:
                if awaits_review(ticket) and ticket.review_due_at is not None and ticket.review_due_at <= now:
                    accept(ticket)
                    accepted += 1
                else:  # no longer awaiting the review (its due time left behind): nothing to accept
                    ticket.review_due_at = None
            db.session.commit()
            last_id = ids[-1]
    return accepted

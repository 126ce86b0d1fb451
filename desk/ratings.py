"""The requester's rating of a finished ticket (issue 15): 1-5 with a comment, once.

A ticket is rated by its requester only (never by staff logged in as them), while it is
resolved or closed, in the portal or from the e-mailed link. The link carries a signed
token naming the ticket, the requester and the reseller, valid 14 days; opening it never
rates (mail scanners follow links): the page it opens asks for one click. The unique
``ticket_id`` of ``ticket_ratings`` keeps it to once even when two tries race.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from auth.access import is_impersonating
from auth.models import CLIENT_USER, Account
from core.branding import mail_identity
from core.extensions import db
from core.links import reseller_url
from core.mail import in_product_language, send_mail
from core.models import Reseller
from core.validation import parse_int
from desk import hooks
from desk.review_models import TicketRating
from desk.states import EventType, RatingSource, StatusKind
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused, add_event, clean_text

MAX_COMMENT = 2_000
SCORES = tuple(range(1, 6))
LINK_DAYS = 14
LINK_SALT = "ticket-rating-link"
# The kinds a ticket is rated in (a ticket awaiting its review is not finished yet).
RATED_KINDS = (StatusKind.RESOLVED, StatusKind.CLOSED)
# The page of the e-mailed link, registered by the portal (desk.hooks.register_client_page).
RATING_PAGE = "rating"


class LinkRefused(Exception):
    """An e-mailed rating link that rates nothing: ``status`` 404 (not a link of this
    reseller, tampered) or 410 (expired, already used, the ticket reopened)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ClientRating:
    """A client's ratings: their average (``None`` without any) and how many."""

    average: float | None
    count: int


def rating_of(ticket: Ticket) -> TicketRating | None:
    return db.session.scalar(
        select(TicketRating).where(
            TicketRating.ticket_id == ticket.id, TicketRating.reseller_id == ticket.reseller_id
        )
    )


def may_rate(ticket: Ticket, account: Account | None) -> bool:
    """Whether ``account`` may rate the ticket now (the portal shows the form)."""
    return (
        account is not None
        and account.kind == CLIENT_USER
        and account.id == ticket.requester_account_id
        and ticket.status_kind in RATED_KINDS
        and not is_impersonating()
        and rating_of(ticket) is None
    )


def rate(
    ticket: Ticket, account: Account, score, comment: str | None, *, source: RatingSource
) -> TicketRating:
    """The requester's rating of the ticket (``source``: the portal or the e-mailed link);
    :class:`TicketRefused` says why not, with nothing written."""
    if is_impersonating():
        raise TicketRefused(_("Staff logged in as a user cannot rate a ticket on the user's behalf."))
    if account is None or account.kind != CLIENT_USER or account.id != ticket.requester_account_id:
        raise TicketRefused(_("Only the person who asked for this ticket rates it."))
    if ticket.status_kind not in RATED_KINDS:
        raise TicketRefused(_("A ticket is rated once it is resolved."))
    value = parse_int(score, min=1, max=5)
    if value is None:
        raise TicketRefused(_("Choose a score from 1 to 5."))
    text = clean_text(comment, limit=MAX_COMMENT, label=_("Comment"), required=False)
    if rating_of(ticket) is not None:
        raise TicketRefused(_("This ticket was already rated."))
    rating = TicketRating(
        reseller_id=ticket.reseller_id,
        client_id=ticket.client_id,
        ticket_id=ticket.id,
        account_id=account.id,
        score=value,
        comment=text,
        source=source,
    )
    try:
        with db.session.begin_nested():  # a rating that raced this one: refused, not a 500
            db.session.add(rating)
            db.session.flush()
    except IntegrityError:
        raise TicketRefused(_("This ticket was already rated.")) from None
    entry = add_event(ticket, EventType.RATED, after={"score": value, "source": str(source)})
    entry.author_account_id = account.id  # from the e-mailed link there is no session
    return rating


def client_rating_select(reseller_id, client_id) -> Select:
    """The client's average rating and how many ratings, one row (its own rows, by client
    index); values or bound parameters (a page may read it inside a larger statement)."""
    return select(func.avg(TicketRating.score).label("rating_average"), func.count().label("ratings")).where(
        TicketRating.reseller_id == reseller_id, TicketRating.client_id == client_id
    )


def client_rating_of(average, count: int) -> ClientRating:
    return ClientRating(round(float(average), 1) if average is not None else None, count)


def client_rating(reseller_id: int, client_id: int) -> ClientRating:
    """The client's average rating and how many ratings."""
    return client_rating_of(*db.session.execute(client_rating_select(reseller_id, client_id)).one())


def desk_ratings(reseller_id: int) -> dict[int, ClientRating]:
    """Each desk's average rating and how many (the reseller's desks page)."""
    rows = db.session.execute(
        select(Ticket.desk_id, func.avg(TicketRating.score), func.count())
        .join(Ticket, Ticket.id == TicketRating.ticket_id)
        .where(TicketRating.reseller_id == reseller_id, Ticket.reseller_id == reseller_id)
        .group_by(Ticket.desk_id)
    ).all()
    return {desk_id: ClientRating(round(float(average), 1), count) for desk_id, average, count in rows}


# --- the e-mailed link --------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def link_token(ticket: Ticket) -> str:
    """The signed token of the ticket's rating link (ticket, requester, reseller)."""
    return _serializer().dumps([ticket.id, ticket.requester_account_id, ticket.reseller_id])


def ticket_of_link(token: str, reseller_id: int) -> tuple[Ticket, Account]:
    """The ticket and requester a rating link names, if it still rates something on
    ``reseller_id``'s host; else :class:`LinkRefused`."""
    unknown = LinkRefused(404, _("This rating link is not valid."))
    try:
        named = _serializer().loads(token, max_age=LINK_DAYS * 24 * 3600)
    except SignatureExpired:
        raise LinkRefused(410, _("This rating link expired.")) from None
    except BadSignature:
        raise unknown from None
    if not (isinstance(named, list) and len(named) == 3 and all(isinstance(n, int) for n in named)):
        raise unknown
    ticket_id, account_id, named_reseller = named
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.reseller_id == reseller_id)
    )
    account = db.session.get(Account, account_id)
    if (
        named_reseller != reseller_id
        or ticket is None
        or ticket.requester_account_id != account_id
        or account is None
        or account.client_id != ticket.client_id
        or not account.active
    ):
        raise unknown
    if rating_of(ticket) is not None:
        raise LinkRefused(410, _("This ticket was already rated. Thank you!"))
    if ticket.status_kind not in RATED_KINDS:
        raise LinkRefused(410, _("This ticket is not finished any more: it can be rated when it is."))
    return ticket, account


@in_product_language
def send_rating_mail(ticket: Ticket) -> bool:
    """E-mail the requester the links that rate the ticket 1 to 5 (none when it is
    rated already, the requester cannot receive mail, or no portal page rates)."""
    requester = db.session.get(Account, ticket.requester_account_id) if ticket.requester_account_id else None
    page = hooks.client_page(RATING_PAGE)
    if requester is None or not requester.is_usable() or page is None:
        return False
    if rating_of(ticket) is not None:
        return False
    reseller = db.session.get(Reseller, ticket.reseller_id)
    token = link_token(ticket)
    lines = [
        _("Ticket #%(number)d, %(subject)s, is resolved.", number=ticket.number, subject=ticket.subject),
        _("How was our service? Choose a score (1: poor, 5: excellent):"),
        *(f"{n}: {reseller_url(reseller, page, token=token, score=n)}" for n in SCORES),
        _("The link opens a page where you confirm the rating; it is valid for %(n)d days.", n=LINK_DAYS),
    ]
    subject = _("[#%(number)d] Rate our service", number=ticket.number)
    send_mail(requester.email, subject, "\n\n".join(lines), **mail_identity(reseller))
    return True

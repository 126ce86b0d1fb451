"""Desks and tickets through the API: the staff queue's filters and sorts
(``desk.queue_filters``) read page by page with a cursor, a ticket and its timeline as
JSON, and the staff's rules behind opening a ticket, replying, noting and changing it
(``desk.tickets``, ``desk.replies``, ``desk.ticket_changes``, ``desk.review``,
``desk.approvals``), the API client acting as the reseller's staff who work every desk;
their refusals as problems."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from api.client_users import ResellerActor
from api.conventions import iso
from api.problems import Problem
from auth.models import CLIENT_USER, Account
from core.extensions import db
from core.tenancy import scoped_select
from desk import review
from desk import ticket_changes as changes
from desk.approvals import request_for_desk_rule
from desk.fields import desk_fields
from desk.models import Desk, TicketStatus
from desk.queue_filters import ASSIGNEE_ME, NULLABLE_SORTS, SORTS, TicketFilters
from desk.replies import note_with_files, public_reply
from desk.states import ApprovalRule
from desk.statuses import status_name
from desk.ticket_files import AttachmentRefused
from desk.ticket_models import Ticket, TicketEntry, TicketFollower
from desk.tickets import MAX_BODY, MAX_SUBJECT, TicketRefused, open_ticket
from tenant.models import Client

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The query parameters the staff queue reads, as the API names them.
FILTER_PARAMS = ("status", "priority", "assignee", "client", "sla", "q", "sort", "dir")
CONFLICT = "ticket_refused"


# --- refusals -------------------------------------------------------------------------------


def _text_messages(label: str, limit: int) -> tuple[str, str]:
    """What ``desk.tickets.clean_text`` says of a text it refuses."""
    return (
        _("%(field)s is required.", field=label),
        _("%(field)s is limited to %(n)d characters.", field=label, n=limit),
    )


def refused(
    exc: TicketRefused, params: dict[str, str], *, otherwise: int = 409, param: str | None = None
) -> Problem:
    """A refusal of the desk's rules as a problem: a field value's a 422 naming
    ``custom_fields.<key>``, one of ``params`` (message -> parameter) a 422 naming it,
    any other a problem of status ``otherwise`` (409: the ticket's state refuses it; a
    422 names ``param``)."""
    db.session.rollback()
    if exc.errors:
        key, message = next(iter(exc.errors.items()))
        return Problem(422, "invalid_parameter", str(message), param=f"custom_fields.{key}")
    if exc.message in params or otherwise == 422:
        return Problem(422, "invalid_parameter", exc.message, param=params.get(exc.message, param))
    return Problem(otherwise, CONFLICT, exc.message)


# --- desks ----------------------------------------------------------------------------------


def desk_json(desk: Desk) -> dict:
    return {
        "id": desk.id,
        "name": desk.name,
        "archived": desk.archived_at is not None,
        "archived_at": iso(desk.archived_at),
        "default_priority": desk.default_priority,
        "intake_email": desk.intake_email,
        "reopen_window_days": desk.reopen_window_days,
        "review": {"enabled": bool(desk.review_timeout_days), "timeout_days": desk.review_timeout_days},
        "approval": {
            "rule": desk.approval_rule,
            "needed": desk.approvals_needed if desk.approval_rule == ApprovalRule.N_OF_M else None,
        },
        "fields": [
            {
                "key": d.key,
                "label": d.label,
                "type": d.field_type,
                "required": bool(d.required),
                "options": list(d.options or []),
                "client_visibility": d.client_visibility,
            }
            for d in desk_fields(desk)
        ],
    }


def desks_page(reseller_id: int, limit: int, starting_after: int | None) -> tuple[list[Desk], bool]:
    """Up to ``limit`` of the reseller's desks (archived ones too) in id order."""
    stmt = scoped_select(Desk, reseller_id=reseller_id)
    if starting_after is not None:
        stmt = stmt.where(
            Desk.id > _anchor(Desk, reseller_id, starting_after, _("No desk of yours has this id."))
        )
    rows = list(db.session.scalars(stmt.order_by(Desk.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _anchor(model, reseller_id: int, object_id: int, message: str) -> int:
    found = db.session.scalar(scoped_select(model, reseller_id=reseller_id).where(model.id == object_id))
    if found is None:
        raise Problem(422, "invalid_parameter", message, param="starting_after")
    return found.id


# --- the list -------------------------------------------------------------------------------


def read_filters(args) -> TicketFilters:
    """The staff queue's filters from the query string; a value they refuse is a 422
    naming it. ``assignee=me`` means nobody here: the API client is no staff member."""
    given = {k: str(args[k]) for k in FILTER_PARAMS if args.get(k) not in (None, "")}
    if given.get("assignee") == ASSIGNEE_ME:
        raise Problem(
            422, "invalid_parameter", _("Unknown value for %(field)s.", field=_("Assignee")), param="assignee"
        )
    filters = TicketFilters.from_args(given)
    for name in given:
        alone = TicketFilters.from_args({name: given[name]})
        if alone.errors:
            raise Problem(422, "invalid_parameter", alone.errors[0], param=name)
    if filters.errors:
        raise Problem(422, "invalid_parameter", filters.errors[0])
    return filters


def _after(stmt, filters: TicketFilters, anchor: Ticket):
    """Tickets after ``anchor`` in the queue's order (``TicketFilters.order``: the sort
    column, empty deadlines last both ways, then the id)."""
    column = SORTS[filters.sort]
    value = getattr(anchor, column.key)
    ascending = filters.direction == "asc"
    next_id = Ticket.id > anchor.id if ascending else Ticket.id < anchor.id
    if value is None:
        return stmt.where(column.is_(None), next_id)
    beyond = column > value if ascending else column < value
    later = or_(beyond, and_(column == value, next_id))
    if filters.sort in NULLABLE_SORTS:
        later = or_(later, column.is_(None))
    return stmt.where(later)


def list_page(reseller_id: int, filters: TicketFilters, desk_id, limit: int, starting_after):
    """Up to ``limit`` tickets after ``starting_after`` and whether more follow."""
    stmt = filters.apply(scoped_select(Ticket, reseller_id=reseller_id), account_id=0)
    if desk_id is not None:
        stmt = stmt.where(Ticket.desk_id == desk_id)
    if starting_after is not None:
        anchor = db.session.scalar(
            scoped_select(Ticket, reseller_id=reseller_id).where(Ticket.id == starting_after)
        )
        if anchor is None:
            raise Problem(
                422, "invalid_parameter", _("No ticket of yours has this id."), param="starting_after"
            )
        stmt = _after(stmt, filters, anchor)
    rows = list(db.session.scalars(filters.order(stmt).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


# --- as JSON --------------------------------------------------------------------------------


def by_id(model, ids) -> dict:
    """The rows of ``model`` of these ids (in the request's scope), by id."""
    ids = set(ids) - {None}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(scoped_select(model).where(model.id.in_(ids)))}


def tickets_json(tickets: list[Ticket]) -> list[dict]:
    """The tickets as JSON, their names read once for all of them."""
    ids = [t.id for t in tickets]
    follows = (
        db.session.execute(
            select(TicketFollower.ticket_id, TicketFollower.account_id).where(
                TicketFollower.ticket_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    people = by_id(
        Account,
        [t.requester_account_id for t in tickets]
        + [t.assignee_account_id for t in tickets]
        + [account_id for _ticket, account_id in follows],
    )
    desks = by_id(Desk, [t.desk_id for t in tickets])
    clients = by_id(Client, [t.client_id for t in tickets])
    statuses = by_id(TicketStatus, [t.status_id for t in tickets])

    def person(account_id):
        account = people.get(account_id)
        return {"id": account.id, "name": account.name, "email": account.email} if account else None

    def one(t: Ticket) -> dict:
        status = statuses.get(t.status_id)
        return {
            "id": t.id,
            "number": t.number,
            "desk": {"id": t.desk_id, "name": desks[t.desk_id].name if t.desk_id in desks else None},
            "client": {
                "id": t.client_id,
                "trade_name": clients[t.client_id].trade_name if t.client_id in clients else None,
            },
            "requester": person(t.requester_account_id),
            "subject": t.subject,
            "description": t.description,
            "priority": t.priority,
            "status": {
                "id": t.status_id,
                "name": status_name(status) if status else None,
                "kind": t.status_kind,
            },
            "assignee": person(t.assignee_account_id),
            "custom_fields": dict(t.field_values or {}),
            "sla": {
                "state": t.sla_state,
                "first_response_due_at": iso(t.first_response_due_at),
                "next_response_due_at": iso(t.next_response_due_at),
                "resolution_due_at": iso(t.resolution_due_at),
            },
            "followers": sorted(
                (person(a) for tid, a in follows if tid == t.id and a in people), key=lambda p: p["id"]
            ),
            "merged_into_id": t.merged_into_id,
            "created_at": iso(t.created_at),
            "updated_at": iso(t.updated_at),
            "last_activity_at": iso(t.last_activity_at),
            "first_responded_at": iso(t.first_responded_at),
            "resolved_at": iso(t.resolved_at),
            "closed_at": iso(t.closed_at),
        }

    return [one(t) for t in tickets]


def ticket_json(ticket: Ticket) -> dict:
    return tickets_json([ticket])[0]


# --- changes --------------------------------------------------------------------------------


def open_for_client(reseller_id: int, values: dict) -> Ticket:
    """A ticket opened by the staff's rule (``desk.tickets.open_ticket``) and its desk's
    approval rule (``desk.approvals.request_for_desk_rule``), as the staff's "new ticket"."""
    client = db.session.scalar(
        scoped_select(Client, reseller_id=reseller_id).where(Client.id == values["client_id"])
    )
    if client is None:
        raise Problem(422, "invalid_parameter", _("No client of yours has this id."), param="client_id")
    desk = db.session.scalar(scoped_select(Desk, reseller_id=reseller_id).where(Desk.id == values["desk_id"]))
    if desk is None:
        raise Problem(422, "invalid_parameter", _("Unknown desk."), param="desk_id")
    # As the staff's form offers them: the client's active users (any other is refused by
    # the rule, naming the requester).
    requester = db.session.scalar(
        scoped_select(Account, reseller_id=reseller_id, client_id=client.id).where(
            Account.id == values["requester_id"], Account.kind == CLIENT_USER, Account.active.is_(True)
        )
    )
    params = {
        _("This desk does not serve this client."): "desk_id",
        _("The requester must be a user of the client."): "requester_id",
        _("Unknown priority."): "priority",
        **dict.fromkeys(_text_messages(_("Subject"), MAX_SUBJECT), "subject"),
        **dict.fromkeys(_text_messages(_("Description"), MAX_BODY), "description"),
    }
    try:
        ticket = open_ticket(
            desk,
            client,
            requester,
            values.get("subject", ""),
            values.get("description", ""),
            priority=values.get("priority") or None,
            field_values=values.get("custom_fields") or {},
        )
        request_for_desk_rule(ticket)
        db.session.flush()
    except TicketRefused as exc:
        raise refused(exc, params, otherwise=422) from None
    return ticket


def reply(ticket: Ticket, body: str, files=()) -> TicketEntry:
    """A public reply as the staff's (``desk.replies.public_reply``), with its files
    (``desk.ticket_files.attach``): e-mailed to the requester and the followers."""
    try:
        return public_reply(ticket, body, ResellerActor(ticket.reseller_id), files)
    except AttachmentRefused as exc:
        raise refused(exc, {}, otherwise=422, param="files") from None
    except TicketRefused as exc:
        raise refused(exc, dict.fromkeys(_text_messages(_("Reply"), MAX_BODY), "body")) from None


def note(ticket: Ticket, body: str, files=()) -> TicketEntry:
    """An internal note as the staff's (``desk.replies.note_with_files``), with its files."""
    try:
        return note_with_files(ticket, body, ResellerActor(ticket.reseller_id), files)
    except AttachmentRefused as exc:
        raise refused(exc, {}, otherwise=422, param="files") from None
    except TicketRefused as exc:
        raise refused(exc, dict.fromkeys(_text_messages(_("Note"), MAX_BODY), "body")) from None


def update(ticket: Ticket, values: dict) -> None:
    """The changes given, by the staff ticket page's rules, all or none: custom fields,
    priority, assignee, then the status (``desk.review.set_status``: a desk with review
    sends a resolution to the client's review; a pending approval refuses it)."""
    try:
        if values.get("custom_fields") is not None:
            changes.set_field_values(ticket, values["custom_fields"])
        if values.get("priority") is not None:
            changes.set_priority(ticket, values["priority"])
        if "assignee_id" in values:
            changes.assign(ticket, values["assignee_id"])
    except TicketRefused as exc:
        params = {
            _("Unknown priority."): "priority",
            _("Only staff who work this desk can be assigned its tickets."): "assignee_id",
        }
        raise refused(exc, params, otherwise=422) from None
    if values.get("status_id") is not None:
        try:
            status = changes.status_of(ticket.reseller_id, values["status_id"])
        except TicketRefused as exc:
            raise refused(exc, {exc.message: "status_id"}) from None
        try:
            review.set_status(ticket, status)
        except TicketRefused as exc:
            raise refused(exc, {}) from None

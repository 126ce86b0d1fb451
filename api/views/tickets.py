"""``/api/v1/desks`` and ``/api/v1/tickets``: the reseller's desks, its tickets listed
with the staff queue's filters and a cursor, read one by one (with an ETag) with their
timeline, opened, answered, noted and changed by the staff's rules (``api.ticket_pages``)."""

from __future__ import annotations

from functools import wraps

from flask import jsonify, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _

from api import ticket_pages
from api import ticket_timeline as ticket_timeline_rules
from api.conventions import conditional
from api.idempotency import idempotent
from api.problems import Problem
from api.protection import require_scope
from api.schemas import PageArgs
from api.states import ApiScope
from api.ticket_schemas import (
    ENTRY_BODY,
    DeskListSchema,
    EntryBodySchema,
    EntrySchema,
    TicketCreateSchema,
    TicketListArgs,
    TicketListSchema,
    TicketSchema,
    TicketUpdateSchema,
    TimelineSchema,
)
from api.views.blueprints import IDEMPOTENCY, problems, security, v1
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from core.uploads import accepts_uploads
from desk.ticket_files import MAX_FILES
from desk.ticket_models import Ticket

READ, WRITE = ApiScope.TICKETS_READ, ApiScope.TICKETS_WRITE
TAG = "Desks and tickets"


def with_ticket(*, for_update: bool = False):
    """Load the path's ticket of this reseller (else a 404) before the body is read."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, ticket_id: int, **kwargs):
            return view(*args, ticket=get_or_404(Ticket, ticket_id, for_update=for_update), **kwargs)

        return wrapped

    return decorator


def _ticket(ticket: Ticket, status: int = 200):
    response = jsonify(ticket_pages.ticket_json(ticket))
    response.status_code = status
    return response


@v1.route("/desks", tags=[TAG])
class Desks(MethodView):
    @security(READ)
    @problems(401, 403, 422, 429)
    @require_scope(READ)
    @v1.arguments(PageArgs, location="query", as_kwargs=True)
    @v1.response(200, DeskListSchema)
    def get(self, limit=ticket_pages.DEFAULT_LIMIT, starting_after=None):
        """The reseller's desks (archived ones too) in id order, with their custom fields,
        review and approval settings."""
        rows, has_more = ticket_pages.desks_page(require_reseller().id, limit, starting_after)
        return jsonify({"data": [ticket_pages.desk_json(d) for d in rows], "has_more": has_more})


@v1.route("/tickets", tags=[TAG])
class Tickets(MethodView):
    @security(READ)
    @problems(401, 403, 422, 429)
    @require_scope(READ)
    @v1.arguments(TicketListArgs, location="query", as_kwargs=True)
    @v1.response(200, TicketListSchema)
    def get(self, limit=ticket_pages.DEFAULT_LIMIT, starting_after=None, desk=None, **filter_args):
        """The tickets, filtered and sorted like the staff queue (open work by default),
        a page at a time."""
        reseller = require_reseller()
        filters = ticket_pages.read_filters(filter_args)
        rows, has_more = ticket_pages.list_page(reseller.id, filters, desk, limit, starting_after)
        return jsonify({"data": ticket_pages.tickets_json(rows), "has_more": has_more})

    @security(WRITE)
    @problems(400, 401, 403, 409, 422, 429)
    @v1.doc(parameters=[IDEMPOTENCY])
    @require_scope(WRITE)
    @idempotent
    @v1.arguments(TicketCreateSchema)
    @v1.response(201, TicketSchema)
    def post(self, values):
        """A ticket for a user of a client on a desk serving it (the staff's "new ticket":
        the desk's fields, its default priority and its approval rule)."""
        ticket = ticket_pages.open_for_client(require_reseller().id, values)
        response = _ticket(ticket, 201)
        response.headers["Location"] = url_for("api_v1.TicketItem", ticket_id=ticket.id)
        return response


@v1.route("/tickets/<int:ticket_id>", tags=[TAG])
class TicketItem(MethodView):
    @security(READ)
    @problems(401, 403, 404, 429)
    @v1.response(200, TicketSchema)
    @v1.alt_response(304, description="Not modified (If-None-Match)")
    @require_scope(READ)
    @with_ticket()
    def get(self, ticket: Ticket):
        """One ticket; its ETag answers ``If-None-Match`` with a 304."""
        return conditional(_ticket(ticket))

    @security(WRITE)
    @problems(401, 403, 404, 409, 422, 429)
    @require_scope(WRITE)
    @with_ticket(for_update=True)
    @v1.arguments(TicketUpdateSchema)
    @v1.response(200, TicketSchema)
    def patch(self, values, ticket: Ticket):
        """Change the status, priority, assignee or custom fields given, all or none (the
        staff ticket page's rules: a pending approval or a closed reopen window is a 409)."""
        ticket_pages.update(ticket, values)
        db.session.commit()
        return _ticket(ticket)


@v1.route("/tickets/<int:ticket_id>/timeline", tags=[TAG])
@security(READ)
@problems(401, 403, 404, 422, 429)
@require_scope(READ)
@with_ticket()
@v1.arguments(PageArgs, location="query", as_kwargs=True)
@v1.response(200, TimelineSchema)
def ticket_timeline(ticket: Ticket, limit=ticket_pages.DEFAULT_LIMIT, starting_after=None):
    """Public replies, internal notes and events, oldest first, a page at a time (after
    the entry ``starting_after``); each with its attachments and their download URLs."""
    rows, has_more = ticket_timeline_rules.timeline_page(ticket, limit, starting_after)
    return jsonify({"data": ticket_timeline_rules.entries_json(ticket, rows), "has_more": has_more})


def _entry_input() -> tuple[str, list]:
    """The entry's body and files: a JSON body (read as ``EntryBodySchema``), or
    ``multipart/form-data`` with a ``body`` field and up to five ``files``."""
    if request.mimetype != "multipart/form-data":
        return v1.ARGUMENTS_PARSER.parse(EntryBodySchema(), request, location="json")["body"], []
    unknown = sorted((set(request.form) - {"body"}) | (set(request.files) - {"files"}))
    if unknown:
        raise Problem(422, "invalid_parameter", _("Unknown field."), param=unknown[0])
    body = request.form.get("body")
    if body is None:
        raise Problem(422, "invalid_parameter", _("Missing data for required field."), param="body")
    return body, request.files.getlist("files")


def _entry_view(name: str, write, doc: str):
    @security(WRITE)
    @problems(400, 401, 403, 404, 409, 413, 422, 429)
    @v1.doc(parameters=[IDEMPOTENCY], requestBody=ENTRY_BODY)
    @require_scope(WRITE)
    @idempotent
    @with_ticket(for_update=True)
    @v1.response(201, EntrySchema)
    def view(ticket: Ticket):
        body, files = _entry_input()
        entry = write(ticket, body, files)
        response = jsonify(ticket_timeline_rules.entries_json(ticket, [entry])[0])
        response.status_code = 201
        return response

    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    # Its body may hold attachments (the limit is raised for a live token only).
    return accepts_uploads(MAX_FILES)(view)


FILES_DOC = (
    " Send it as JSON, or as `multipart/form-data` with its files (up to five, each checked"
    " by its content as the staff's attachments; a refused file is a 422 naming `files`)."
)
v1.route("/tickets/<int:ticket_id>/replies", methods=["POST"], tags=[TAG])(
    _entry_view(
        "ticket_reply",
        ticket_pages.reply,
        "A public reply, written by this API client, e-mailed to the requester and the followers."
        + FILES_DOC,
    )
)
v1.route("/tickets/<int:ticket_id>/notes", methods=["POST"], tags=[TAG])(
    _entry_view(
        "ticket_note",
        ticket_pages.note,
        "An internal note (never e-mailed, never shown to the client)." + FILES_DOC,
    )
)

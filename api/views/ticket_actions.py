"""``/api/v1/tickets/{id}/...``: a ticket's followers (list, add, remove), its move to
another desk, its merge into another ticket (``api.ticket_actions``) and the download of
its attachments (the staff page's headers: ``core.uploads.attachment_response``)."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from api import ticket_actions, ticket_pages
from api.idempotency import idempotent
from api.problems import Problem
from api.protection import require_scope
from api.states import ApiScope
from api.ticket_schemas import (
    FollowerAddSchema,
    FollowerListSchema,
    FollowerSchema,
    MergeSchema,
    MoveSchema,
    TicketSchema,
)
from api.views.blueprints import IDEMPOTENCY, problems, security, v1
from api.views.tickets import TAG, with_ticket
from core.extensions import db
from core.uploads import attachment_response
from desk.ticket_files import attachment_of, open_attachment
from desk.ticket_models import Ticket

READ, WRITE = ApiScope.TICKETS_READ, ApiScope.TICKETS_WRITE
FILE = {
    "description": "The file, with the type found in its content; images and PDF inline, the "
    "others as a download (`Content-Disposition`).",
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
}


@v1.route("/tickets/<int:ticket_id>/followers", tags=[TAG])
class TicketFollowers(MethodView):
    @security(READ)
    @problems(401, 403, 404, 429)
    @require_scope(READ)
    @with_ticket()
    @v1.response(200, FollowerListSchema)
    def get(self, ticket: Ticket):
        """Who receives the ticket's public replies, by name."""
        return jsonify({"data": [ticket_actions.person_json(a) for a in ticket_actions.followers(ticket)]})

    @security(WRITE)
    @problems(400, 401, 403, 404, 409, 422, 429)
    @v1.doc(parameters=[IDEMPOTENCY])
    @require_scope(WRITE)
    @idempotent
    @with_ticket(for_update=True)
    @v1.arguments(FollowerAddSchema)
    @v1.response(201, FollowerSchema)
    def post(self, values, ticket: Ticket):
        """Add a follower: a user of the ticket's client, or a staff member who works its
        desk (anyone else is a 422 naming `account_id`); one already following stays."""
        account = ticket_actions.add_follower(ticket, values["account_id"])
        response = jsonify(ticket_actions.person_json(account))
        response.status_code = 201
        return response


@v1.route("/tickets/<int:ticket_id>/followers/<int:account_id>", methods=["DELETE"], tags=[TAG])
@security(WRITE)
@problems(401, 403, 404, 429)
@require_scope(WRITE)
@with_ticket(for_update=True)
@v1.response(204)
def ticket_follower_remove(ticket: Ticket, account_id: int):
    """Remove a follower (someone who does not follow the ticket: a 404)."""
    ticket_actions.remove_follower(ticket, account_id)
    db.session.commit()
    return "", 204


@v1.route("/tickets/<int:ticket_id>/move", methods=["POST"], tags=[TAG])
@security(WRITE)
@problems(400, 401, 403, 404, 409, 422, 429)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(WRITE)
@idempotent
@with_ticket(for_update=True)
@v1.arguments(MoveSchema)
@v1.response(200, TicketSchema)
def ticket_move(values, ticket: Ticket):
    """Move the ticket to another desk serving its client (the staff page's rule: the
    assignee stays only if they work the new desk, fields the new desk lacks are dropped,
    the SLA follows the new desk's policy); a merged ticket is a 409."""
    ticket_actions.move(ticket, values["desk_id"])
    return jsonify(ticket_pages.ticket_json(ticket))


@v1.route("/tickets/<int:ticket_id>/merge", methods=["POST"], tags=[TAG])
@security(WRITE)
@problems(400, 401, 403, 404, 409, 422, 429)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(WRITE)
@idempotent
@with_ticket(for_update=True)
@v1.arguments(MergeSchema)
@v1.response(200, TicketSchema)
def ticket_merge(values, ticket: Ticket):
    """Merge the ticket into another of the same client: its timeline, files and
    followers move there and it becomes "merged" (`merged_into_id`). A merged ticket, or
    one waiting for an approval, is a 409."""
    ticket_actions.merge_into(ticket, values["into_id"])
    return jsonify(ticket_pages.ticket_json(ticket))


@v1.route("/tickets/<int:ticket_id>/attachments/<int:attachment_id>", tags=[TAG])
@security(READ)
@problems(401, 403, 404, 429)
@v1.doc(responses={"200": FILE})
@require_scope(READ)
@with_ticket()
def ticket_attachment(ticket: Ticket, attachment_id: int):
    """One of the ticket's files, as stored (another ticket's, or another reseller's, is
    a 404)."""
    row = attachment_of(ticket, attachment_id)
    if row is None:
        raise Problem(404, "not_found", "")
    return attachment_response(open_attachment(row), row.content_type, row.filename, row.size)

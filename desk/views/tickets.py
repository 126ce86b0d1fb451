"""The ticket queues (all my desks, one desk, a client's tab), opening a ticket for a
client, and the queue's bulk actions. Thin: parse, call a rule, render."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission
from auth.models import CLIENT_USER, Account
from core.extensions import db
from core.kept import kept
from core.redirects import safe_local_target
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.timeutil import utcnow
from core.validation import parse_int
from desk import queue
from desk.approvals import request_for_desk_rule
from desk.fields import desk_fields, submitted_values
from desk.hooks import queue_links
from desk.links import client_desks
from desk.merging import BULK_ACTIONS, BulkAction
from desk.models import Desk, TicketStatus
from desk.review import bulk
from desk.staffing import staff_desk_ids
from desk.tickets import TicketRefused, open_ticket
from desk.views.ticket_blueprint import tickets_bp
from desk.views.ticket_rows import TicketRows
from tenant.models import Client


def _statuses(reseller_id: int) -> tuple:
    """The reseller's statuses for the bulk menu (id, kind, name), in their order."""
    columns = (TicketStatus.id, TicketStatus.kind, TicketStatus.name)
    return tuple(
        db.session.execute(
            scoped_select(TicketStatus, *columns, reseller_id=reseller_id).order_by(TicketStatus.position)
        )
    )


def _queue_context(filters, page, **extra) -> dict:
    reseller_id = require_reseller().id
    statuses = kept("bulk_statuses", reseller_id, lambda: _statuses(reseller_id))
    now = utcnow()  # a deadline at or before it is breached
    return dict(
        filters=filters,
        page=page,
        statuses=list(statuses),
        bulk_actions=BULK_ACTIONS,
        now=now,
        ticket_rows=TicketRows(now),
        **extra,
    )


def _render_queue(template: str, *, desk=None, client=None, endpoint: str, **values):
    reseller = require_reseller()
    filters = queue.TicketFilters.from_args(request.args)
    if client is not None:
        filters.client = client.id
    desk_ids = staff_desk_ids(current_account)
    page = queue.list_tickets(
        reseller.id, current_account.id, desk_ids, filters, desk_id=desk.id if desk else None
    )
    context = _queue_context(filters, page, desk=desk, client=client, queue_url=url_for(endpoint, **values))
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        response = make_response(render_template("desk/_ticket_results.html", **context))
        query = filters.url_query()
        response.headers["HX-Push-Url"] = context["queue_url"] + (f"?{query}" if query else "")
        return response
    context["queue_links"] = queue_links() if desk is None and client is None else []
    return render_template(template, **context), (400 if filters.errors else 200)


@tickets_bp.get("/tickets")
def queue_page():
    return _render_queue("desk/tickets.html", endpoint="desk_tickets.queue_page")


@tickets_bp.get("/desks/<int:desk_id>/tickets")
def desk_queue(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    desk_ids = staff_desk_ids(current_account)
    if desk_ids is not None and desk.id not in desk_ids:
        abort(404)
    return _render_queue("desk/tickets.html", desk=desk, endpoint="desk_tickets.desk_queue", desk_id=desk.id)


@tickets_bp.get("/clients/<int:client_id>/tickets")
def client_tickets(client_id: int):
    client = _client_in_reach(client_id)
    return _render_queue(
        "desk/client_tickets.html", client=client, endpoint="desk_tickets.client_tickets", client_id=client.id
    )


def _client_in_reach(client_id: int) -> Client:
    """The client, for staff who manage clients or work one of the desks serving it; to
    anyone else (a desk agent of other clients) it does not exist."""
    client = get_or_404(Client, client_id)
    if not has_permission(perm.CLIENTS) and not _client_desks(client):
        abort(404)
    return client


def _client_desks(client) -> list[Desk]:
    """The desks serving the client that the staff member works."""
    return client_desks(client, worked_by=current_account)


@tickets_bp.route("/clients/<int:client_id>/tickets/new", methods=["GET", "POST"])
def ticket_new(client_id: int):
    """Open a ticket for the client on one of its desks, with that desk's custom fields
    (the chosen desk's, ``?desk_id=`` on GET; refused values shown beside each field)."""
    client = _client_in_reach(client_id)
    desks = _client_desks(client)
    users = db.session.scalars(
        scoped_select(Account, client_id=client.id)
        .where(Account.kind == CLIENT_USER, Account.active.is_(True))
        .order_by(Account.name)
    ).all()
    form = request.form if request.method == "POST" else request.args
    desk = next((d for d in desks if d.id == parse_int(form.get("desk_id"), min=1)), None)
    definitions = desk_fields(desk or desks[0]) if desks else []
    values, errors = {}, {}
    if request.method == "POST":
        requester = next((u for u in users if u.id == parse_int(form.get("requester_id"), min=1)), None)
        values = submitted_values(form, definitions)
        try:
            if desk is None:
                raise TicketRefused(_("Choose one of the client's desks."))
            ticket = open_ticket(
                desk,
                client,
                requester,
                form.get("subject"),
                form.get("description"),
                priority=form.get("priority") or None,
                field_values=values,
            )
            request_for_desk_rule(ticket)
        except TicketRefused as refused:
            db.session.rollback()
            flash(refused.message, "danger")
            errors = refused.errors
        else:
            db.session.commit()
            flash(_("Ticket #%(number)d opened.", number=ticket.number), "success")
            return redirect(url_for("desk_tickets.ticket_page", ticket_id=ticket.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "desk/ticket_new.html",
        client=client,
        desks=desks,
        users=users,
        form=form,
        fields=definitions,
        values=values,
        field_errors=errors,
    ), status


@tickets_bp.post("/tickets/bulk")
def bulk_action():
    reseller = require_reseller()
    raw_ids = [parse_int(v, min=1) for v in request.form.getlist("ticket_ids")]
    tickets = queue.visible_tickets(reseller.id, staff_desk_ids(current_account), [i for i in raw_ids if i])
    action = request.form.get("action", "")
    value = request.form.get("status_id")
    if action == BulkAction.ASSIGN:
        raw = request.form.get("assignee") or ""
        value = current_account.id if raw == queue.ASSIGNEE_ME else parse_int(raw, min=1)
    back = safe_local_target(request.form.get("next")) or url_for("desk_tickets.queue_page")
    try:
        done, refused = bulk(tickets, action, value)
    except TicketRefused as reason:
        db.session.rollback()
        flash(reason.message, "danger")
        return redirect(back)
    db.session.commit()
    flash(_("%(n)d tickets changed.", n=done), "success")
    for number, message in refused:
        flash(_("#%(number)d: %(message)s", number=number, message=message), "warning")
    return redirect(back)

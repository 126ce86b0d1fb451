"""The ticket page (``/reseller/tickets/<id>``): header, timeline, reply/note form with
attachments, and the side panel's changes (status, priority, assignee, followers,
fields, desk, merge); the attachments, served only to staff who may see the ticket."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from auth.models import Account
from core import audit
from core.extensions import db
from core.mail import clear_undeliverable, undeliverable
from core.outcomes import commit_or_refuse
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.timeutil import utcnow
from core.uploads import accepts_uploads, attachment_response
from core.validation import parse_int
from desk import review
from desk import ticket_changes as changes
from desk.fields import desk_fields, submitted_values
from desk.hooks import entry_sources
from desk.merging import merge
from desk.models import Desk, TicketStatus
from desk.replies import note_with_files, public_reply
from desk.staffing import works_desk
from desk.states import FieldType, StatusKind
from desk.ticket_files import MAX_FILES, attachment_of, attachments, open_attachment
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused, timeline
from desk.views.ticket_blueprint import tickets_bp
from tenant.models import Client


def load_ticket(ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The reseller's ticket on a desk the staff member works, else 404."""
    ticket = get_or_404(Ticket, ticket_id, for_update=for_update)
    if not works_desk(current_account, ticket.desk_id):
        abort(404)
    return ticket


@tickets_bp.app_template_global()
def review_panel(ticket: Ticket) -> review.ReviewState:
    """The client's review and rating of the ticket, for the side panel."""
    return review.review_state(ticket)


@tickets_bp.get("/tickets/<int:ticket_id>")
def ticket_page(ticket_id: int):
    return _render_page(load_ticket(ticket_id))


def _render_page(ticket: Ticket, values: dict | None = None, field_errors: dict | None = None, status=200):
    """The page; ``values`` and ``field_errors``: a refused fields form, shown again."""
    entries = timeline(ticket)
    people_ids = {e.author_account_id for e in entries} | {e.acting_as_account_id for e in entries}
    people_ids |= {ticket.requester_account_id, ticket.assignee_account_id}
    people = {
        a.id: a for a in db.session.scalars(scoped_select(Account).where(Account.id.in_(people_ids - {None})))
    }
    files = attachments(ticket)
    statuses = db.session.scalars(scoped_select(TicketStatus).order_by(TicketStatus.position)).all()
    definitions = desk_fields(ticket.desk, archived=True)
    requester = people.get(ticket.requester_account_id)
    return render_template(
        "desk/ticket_page.html",
        ticket=ticket,
        now=utcnow(),  # each SLA clock as it stands now
        client=db.session.get(Client, ticket.client_id),
        entries=entries,
        people=people,
        files_by_entry={f.entry_id: [g for g in files if g.entry_id == f.entry_id] for f in files},
        statuses=[s for s in statuses if s.kind != StatusKind.MERGED],
        staff=changes.assignable_staff(ticket),
        followers=changes.followers(ticket),
        fields=[d for d in definitions if d.archived_at is None],
        field_labels={d.key: d.label for d in definitions},
        date_fields={d.key for d in definitions if d.field_type == FieldType.DATE},
        field_values=(ticket.field_values or {}) if values is None else values,
        field_errors=field_errors or {},
        move_targets=changes.move_targets(ticket, current_account),
        max_files=MAX_FILES,
        may_reopen=changes.may_reopen(ticket),
        merged_into=db.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None,
        requester=requester,
        requester_bounce=undeliverable(ticket.reseller_id, [requester.email]).get(requester.email.lower())
        if requester
        else None,
        sources=entry_sources(ticket),
    ), status


def _apply(ticket_id: int, change, success: str):
    """Run ``change(ticket)``; commit and say ``success``, or roll back and say why."""
    ticket = load_ticket(ticket_id, for_update=True)
    commit_or_refuse(lambda: change(ticket), TicketRefused, success)
    return redirect(url_for("desk_tickets.ticket_page", ticket_id=ticket_id))


@tickets_bp.post("/tickets/<int:ticket_id>/reply")
@accepts_uploads(MAX_FILES)
def ticket_reply(ticket_id: int):
    form = request.form
    files = request.files.getlist("files")
    if form.get("internal"):
        return _apply(
            ticket_id,
            lambda t: note_with_files(t, form.get("body"), current_account, files),
            _("Internal note added."),
        )
    return _apply(
        ticket_id, lambda t: public_reply(t, form.get("body"), current_account, files), _("Reply sent.")
    )


@tickets_bp.post("/tickets/<int:ticket_id>/status")
def ticket_status(ticket_id: int):
    reseller_id = require_reseller().id
    return _apply(
        ticket_id,
        lambda t: review.set_status(t, changes.status_of(reseller_id, request.form.get("status_id"))),
        _("Status changed."),
    )


@tickets_bp.post("/tickets/<int:ticket_id>/priority")
def ticket_priority(ticket_id: int):
    return _apply(
        ticket_id, lambda t: changes.set_priority(t, request.form.get("priority")), _("Priority changed.")
    )


@tickets_bp.post("/tickets/<int:ticket_id>/assign")
def ticket_assign(ticket_id: int):
    raw = request.form.get("assignee_id") or ""
    account_id = current_account.id if raw == "me" else parse_int(raw, min=1)

    def to(ticket):
        if raw and account_id is None:
            raise TicketRefused(_("Only staff who work this desk can be assigned its tickets."))
        changes.assign(ticket, account_id)

    return _apply(ticket_id, to, _("Assignee changed."))


@tickets_bp.post("/tickets/<int:ticket_id>/follow")
def ticket_follow(ticket_id: int):
    def toggle(ticket):
        if request.form.get("stop"):
            changes.unfollow(ticket, current_account)
        else:
            changes.follow(ticket, current_account)

    return _apply(ticket_id, toggle, _("Followers changed."))


@tickets_bp.post("/tickets/<int:ticket_id>/fields")
def ticket_fields(ticket_id: int):
    """Save the side panel's fields; refused, the page again with the submitted values
    and each field's reason (nothing saved)."""
    ticket = load_ticket(ticket_id, for_update=True)
    values = submitted_values(request.form, desk_fields(ticket.desk))
    try:
        changes.set_field_values(ticket, values)
    except TicketRefused as refused:
        db.session.rollback()
        flash(refused.message, "danger")
        return _render_page(load_ticket(ticket_id), values, refused.errors, status=400)
    db.session.commit()
    flash(_("Fields saved."), "success")
    return redirect(url_for("desk_tickets.ticket_page", ticket_id=ticket_id))


@tickets_bp.post("/tickets/<int:ticket_id>/desk")
def ticket_desk(ticket_id: int):
    """Move the ticket to another desk the staff member works (the reseller's; another
    reseller's desk is as unknown as none)."""
    desk_id = parse_int(request.form.get("desk_id"), min=1)

    def move(ticket):
        desk = desk_id and db.session.scalar(scoped_select(Desk).where(Desk.id == desk_id))
        changes.move_to_desk(ticket, desk or None, by=current_account)

    return _apply(ticket_id, move, _("Ticket moved to another desk."))


@tickets_bp.post("/tickets/<int:ticket_id>/merge")
def ticket_merge(ticket_id: int):
    raw = (request.form.get("into") or "").strip().lstrip("#")
    number = parse_int(raw, min=1)

    def into(ticket):
        target = number and db.session.scalar(
            scoped_select(Ticket).where(Ticket.number == number).with_for_update()
        )
        if not target or not works_desk(current_account, target.desk_id):
            raise TicketRefused(_("No ticket #%(number)s here.", number=raw))
        merge(ticket, target)

    return _apply(ticket_id, into, _("Ticket merged."))


@tickets_bp.post("/tickets/<int:ticket_id>/requester-mail")
def ticket_requester_mail(ticket_id: int):
    """Try the requester's address again after a bounce marked it dead (the mailbox was
    fixed): mail of this reseller goes to it again."""

    def retry(ticket: Ticket) -> None:
        requester_id = ticket.requester_account_id
        requester = db.session.get(Account, requester_id) if requester_id else None
        if requester is None or not clear_undeliverable(ticket.reseller_id, requester.email):
            raise TicketRefused(_("This address is not marked undeliverable."))
        audit.record("mail.address_retried", ticket, details={"address": requester.email})

    return _apply(ticket_id, retry, _("E-mail to this address will be tried again."))


@tickets_bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
def ticket_attachment(ticket_id: int, attachment_id: int):
    ticket = load_ticket(ticket_id)
    row = attachment_of(ticket, attachment_id)
    if row is None:
        abort(404)
    return attachment_response(open_attachment(row), row.content_type, row.filename, row.size)

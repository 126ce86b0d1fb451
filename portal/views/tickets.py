"""The client user's tickets in the portal (``/app/tickets``; the *portal* permission):
the list with its filters, a new ticket on one of the client's desks (its client-facing
fields, files, the SLA the client is entitled to, knowledge base articles suggested as
the subject is typed), and the ticket's page (the public timeline, never an internal
note; a reply with files; followers from the same client; its files).

Another client's ticket, or one the user does not see (not its own, not followed,
without *see all the client's tickets*), is a 404 like an unknown id."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission
from auth.models import Account
from core.extensions import db, limiter
from core.outcomes import commit_or_refuse
from core.tenancy import current_client, scoped_select
from core.timeutil import utcnow
from core.uploads import accepts_uploads, attachment_response
from core.validation import parse_int
from desk import ticket_changes
from desk.fields import desk_fields, submitted_values
from desk.models import Desk
from desk.replies import public_reply
from desk.states import ClientVisibility, EntryKind, FieldType, StatusKind
from desk.statuses import CLIENT_LABELS
from desk.ticket_files import MAX_FILES, attachment_of, open_attachment
from desk.tickets import TicketRefused, timeline
from portal import tickets
from portal.views.blueprints import bp


def _reader() -> Account:
    """The current client user, if it holds *portal* (else 403)."""
    if not has_permission(perm.PORTAL):
        abort(403)
    return current_account._get_current_object()


def _ticket_or_404(ticket_id: int, *, for_update: bool = False):
    ticket = tickets.visible_ticket(_reader(), ticket_id, for_update=for_update)
    if ticket is None:
        abort(404)
    return ticket


@bp.app_template_global()
def client_status_label(ticket) -> str:
    """A ticket's status as the client reads it: the reseller's client name for it, else
    the kind's client label."""
    return ticket.status.client_name or client_kind_label(ticket.status_kind)


@bp.app_template_global()
def client_kind_label(kind: str) -> str:
    """A status kind as the client reads it (a timeline event keeps the kind only)."""
    return str(CLIENT_LABELS.get(kind, kind))


@bp.app_template_global()
def business_duration(minutes: int | None) -> str:
    """Business minutes as the client reads them: "30 min", "4 h", "2 h 30 min", "—"."""
    if not minutes:
        return "—"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(m)d min", m=rest)
    return _("%(h)d h %(m)d min", h=hours, m=rest) if rest else _("%(h)d h", h=hours)


@bp.get("/tickets")
def tickets_page():
    account = _reader()
    filters = tickets.TicketFilters.from_args(request.args)
    page = tickets.ticket_list(account, filters, parse_int(request.args.get("page"), min=1) or 1)
    return render_template(
        "portal/tickets.html",
        page=page,
        filters=filters,
        desks=tickets.openable_desks(current_client),
        sees_all=tickets.sees_all(account),
    )


def _client_fields(desk: Desk | None, *, editable_only: bool):
    if desk is None:
        return []
    wanted = (
        (ClientVisibility.EDITABLE,)
        if editable_only
        else (ClientVisibility.EDITABLE, ClientVisibility.VISIBLE)
    )
    return [f for f in desk_fields(desk) if f.client_visibility in wanted]


def _per_user() -> str:
    return f"portal-tickets:{current_account.id}" if current_account else request.remote_addr or ""


@bp.route("/tickets/new", methods=["GET", "POST"])
@accepts_uploads(MAX_FILES)
# A user opening tickets by the dozen is a script or a loop, not a person: 20 an hour.
@limiter.limit("20 per hour", methods=["POST"], key_func=_per_user)
def ticket_new():
    account = _reader()
    desks = tickets.openable_desks(current_client)
    chosen_id = parse_int(request.values.get("desk_id"), min=1)
    desk = next((d for d in desks if d.id == chosen_id), desks[0] if desks else None)
    fields = _client_fields(desk, editable_only=True)
    errors, status = {}, 200
    if request.method == "POST":
        values = submitted_values(request.form, fields)
        try:
            ticket = tickets.open_from_portal(
                account,
                current_client,
                desk_id=request.form.get("desk_id"),
                subject=request.form.get("subject"),
                description=request.form.get("description"),
                field_values=values,
                files=request.files.getlist("files"),
            )
        except TicketRefused as refused:
            db.session.rollback()
            errors = {"form": refused.message, **refused.errors}
            status = 422
        else:
            db.session.commit()
            flash(
                _("Ticket #%(number)d opened. We will answer you here and by e-mail.", number=ticket.number),
                "success",
            )
            return redirect(url_for("portal.ticket_page", ticket_id=ticket.id), 303)
    return render_template(
        "portal/ticket_new.html",
        desks=desks,
        desk=desk,
        fields=fields,
        values=submitted_values(request.form, fields) if request.method == "POST" else {},
        form=request.form,
        errors=errors,
        sla=tickets.entitled_sla(current_client, desks),
        max_files=MAX_FILES,
    ), status


@bp.get("/tickets/<int:ticket_id>")
def ticket_page(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    entries = timeline(ticket, for_client=True)
    people_ids = {e.author_account_id for e in entries} | {ticket.requester_account_id}
    people = {
        a.id: a for a in db.session.scalars(scoped_select(Account).where(Account.id.in_(people_ids - {None})))
    }
    files = tickets.client_attachments(ticket)
    fields = _client_fields(ticket.desk, editable_only=False)
    followers = ticket_changes.followers(ticket)
    # The requester receives the replies anyway: not offered as a follower.
    follower_ids = {a.id for a in followers} | {ticket.requester_account_id}
    return render_template(
        "portal/ticket.html",
        ticket=ticket,
        now=utcnow(),
        entries=entries,
        people=people,
        files_by_entry=_files_by_entry(entries, files),
        fields=fields,
        date_fields={f.key for f in fields if f.field_type == FieldType.DATE},
        followers=followers,
        candidates=[a for a in tickets.colleagues(current_account) if a.id not in follower_ids],
        may_reply=ticket.status_kind != StatusKind.MERGED and ticket_changes.may_reopen(ticket),
        max_files=MAX_FILES,
    )


def _files_by_entry(entries, files) -> dict:
    """Files by the reply they came with; those of the opening (its event, or none) under
    ``None``, shown with the description."""
    events = {e.id for e in entries if e.kind == EntryKind.EVENT}
    out: dict = {}
    for f in files:
        out.setdefault(None if f.entry_id is None or f.entry_id in events else f.entry_id, []).append(f)
    return out


@bp.post("/tickets/<int:ticket_id>/reply")
@accepts_uploads(MAX_FILES)
@limiter.limit("60 per hour", key_func=_per_user)
def ticket_reply(ticket_id: int):
    ticket = _ticket_or_404(ticket_id, for_update=True)
    commit_or_refuse(
        lambda: public_reply(
            ticket, request.form.get("body"), current_account, request.files.getlist("files")
        ),
        TicketRefused,
        _("Reply sent."),
    )
    return redirect(url_for("portal.ticket_page", ticket_id=ticket_id), 303)


@bp.post("/tickets/<int:ticket_id>/followers")
def ticket_followers(ticket_id: int):
    ticket = _ticket_or_404(ticket_id, for_update=True)
    added = commit_or_refuse(
        lambda: tickets.add_followers(ticket, current_account, request.form.getlist("account_id")),
        TicketRefused,
    )
    if added and not isinstance(added, TicketRefused):
        flash(_("%(names)s will follow this ticket.", names=", ".join(a.name for a in added)), "success")
    elif not added:
        flash(_("They already follow this ticket."), "info")
    return redirect(url_for("portal.ticket_page", ticket_id=ticket_id), 303)


@bp.get("/tickets/<int:ticket_id>/files/<int:attachment_id>")
def ticket_attachment(ticket_id: int, attachment_id: int):
    ticket = _ticket_or_404(ticket_id)
    row = attachment_of(ticket, attachment_id)
    if row is None or row.id not in {f.id for f in tickets.client_attachments(ticket)}:
        abort(404)
    return attachment_response(open_attachment(row), row.content_type, row.filename, row.size)

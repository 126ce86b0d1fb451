"""The client user's approvals (``/app/approvals``, with the *portal* permission): the
approvals waiting for the user's decision, with Approve / Refuse forms
(``POST /app/approvals/<id>/decide``), and those already decided; and the data of the
ticket page's approval partial (``portal/_ticket_approval.html``, through the Jinja
global :func:`portal_ticket_approvals`). An approver reads a ticket's number, subject,
desk and the approval's note; the rest of the ticket only if they may see it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission, is_impersonating
from core.extensions import db
from desk import approvals
from desk.ticket_models import Ticket
from desk.tickets import TicketRefused
from portal.tickets import visible_select, visible_ticket
from portal.views.blueprints import bp


def _approver():
    if not has_permission(perm.PORTAL) or current_account.is_staff:
        abort(403)
    return current_account


@bp.get("/approvals", endpoint="approvals")
def approvals_page():
    account = _approver()
    waiting = approvals.of_approver(account, pending=True)
    past = approvals.of_approver(account, pending=False)
    rows = waiting + past
    tickets = approvals.tickets_of(rows)
    # Which of them the user may open (its own, followed, or all with the permission).
    readable = {t.id for t in db.session.scalars(visible_select(account).where(Ticket.id.in_(list(tickets))))}
    return render_template(
        "portal/approvals.html",
        waiting=waiting,
        past=past,
        tickets=tickets,
        readable=readable,
        people=approvals.people(rows),
        impersonating=is_impersonating(),
        max_comment=approvals.MAX_COMMENT,
    )


@bp.post("/approvals/<int:approval_id>/decide", endpoint="approval_decide")
def approval_decide(approval_id: int):
    if is_impersonating():
        abort(403)  # staff logged in as the user: never on the user's behalf
    account = _approver()
    approval = approvals.locked_approval(approval_id, account)
    if approval is None:
        abort(404)
    try:
        approvals.decide(approval, account, request.form.get("decision"), request.form.get("comment"))
    except TicketRefused as refused:
        db.session.rollback()
        flash(refused.message, "danger")
    else:
        db.session.commit()
        flash(_("Your decision was recorded."), "success")
    return redirect(url_for("portal.approvals"))


@bp.app_template_global()
def portal_ticket_approvals(ticket) -> dict:
    """The ticket page's approval partial: the ticket's approvals with who decided what
    (for a client user who sees the ticket), and whether one waits for this user."""
    if current_account is None or visible_ticket(current_account, ticket.id) is None:
        return {"approvals": [], "people": {}, "mine": False}
    rows = approvals.of_ticket(ticket)
    mine = any(approvals.waits_for(a, current_account) for a in rows)
    return {"approvals": rows, "people": approvals.people(rows), "mine": mine}

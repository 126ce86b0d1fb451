"""A ticket's approval on the staff ticket page: ask named users of the client to approve
it (``POST /reseller/tickets/<id>/approval``), cancel the pending one
(``.../approval/cancel``), and the side panel's data (the Jinja globals its partial,
``desk/_ticket_approval_panel.html``, calls: the ticket page's view does not change)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from core.formatting import label
from desk import approvals
from desk.states import ApprovalRule, ApprovalState, StatusKind
from desk.tickets import is_finished
from desk.views.labels import (
    APPROVAL_LABELS,
    APPROVAL_STATE_BADGES,
    APPROVAL_STATE_LABELS,
    VOTE_LABELS,
    approval_event_text,
    approval_rule_text,
)
from desk.views.ticket_blueprint import tickets_bp
from desk.views.ticket_page import _apply


@tickets_bp.post("/tickets/<int:ticket_id>/approval")
def ticket_approval(ticket_id: int):
    form = request.form
    return _apply(
        ticket_id,
        lambda t: approvals.request(
            t, form.getlist("approver_ids"), form.get("rule"), form.get("needed"), form.get("note")
        ),
        _("Approval asked."),
    )


@tickets_bp.post("/tickets/<int:ticket_id>/approval/cancel")
def ticket_approval_cancel(ticket_id: int):
    return _apply(ticket_id, approvals.cancel, _("Approval cancelled."))


@tickets_bp.app_template_global()
def ticket_approvals(ticket) -> dict:
    """What a ticket's approval panel shows: its approvals (newest first) with the people
    they name, whether one is pending, and whom staff may ask (none once finished)."""
    rows = approvals.of_ticket(ticket)
    open_ticket = not is_finished(ticket) and ticket.status_kind != StatusKind.MERGED
    return {
        "approvals": rows,
        "people": approvals.people(rows),
        "has_pending": any(a.state == ApprovalState.PENDING for a in rows),
        "candidates": approvals.candidates(ticket) if open_ticket else [],
        "max_approvers": approvals.MAX_APPROVERS,
        "max_comment": approvals.MAX_COMMENT,
    }


@tickets_bp.app_context_processor
def _approval_helpers():
    return {
        "approval_event_text": approval_event_text,
        "approval_rule_text": approval_rule_text,
        "approval_state_label": lambda state: label(APPROVAL_STATE_LABELS.get(state, state)),
        "approval_state_badge": lambda state: APPROVAL_STATE_BADGES.get(state, ""),
        "vote_label": lambda decision: label(VOTE_LABELS.get(decision, decision)),
        "approval_rules": [(r, label(APPROVAL_LABELS[r])) for r in ApprovalRule if r != ApprovalRule.NONE],
    }

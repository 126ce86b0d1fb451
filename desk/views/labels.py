"""How the desk pages name priorities, approval rules, field types and visibilities."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from desk.states import ApprovalRule, ApprovalState, ClientVisibility, FieldType, VoteDecision
from desk.statuses import PRIORITY_LABELS  # noqa: F401 - the desk pages read it as labels.PRIORITY_LABELS

APPROVAL_LABELS = {
    ApprovalRule.NONE: _l("No approval"),
    ApprovalRule.ANY: _l("Any approver"),
    ApprovalRule.ALL: _l("All approvers"),
    ApprovalRule.N_OF_M: _l("N of the approvers"),
}
APPROVAL_STATE_LABELS = {
    ApprovalState.PENDING: _l("Waiting for the approvers"),
    ApprovalState.APPROVED: _l("Approved"),
    ApprovalState.REFUSED: _l("Refused"),
    ApprovalState.CANCELLED: _l("Cancelled"),
}
APPROVAL_STATE_BADGES = {
    ApprovalState.PENDING: "text-bg-warning",
    ApprovalState.APPROVED: "text-bg-success",
    ApprovalState.REFUSED: "text-bg-danger",
    ApprovalState.CANCELLED: "text-bg-secondary",
}
VOTE_LABELS = {
    VoteDecision.APPROVED: _l("Approved"),
    VoteDecision.REFUSED: _l("Refused"),
    None: _l("Not decided yet"),
}
FIELD_TYPE_LABELS = {
    FieldType.TEXT: _l("Text"),
    FieldType.LONG_TEXT: _l("Long text"),
    FieldType.NUMBER: _l("Number"),
    FieldType.DATE: _l("Date"),
    FieldType.SELECT: _l("List (one choice)"),
    FieldType.MULTI_SELECT: _l("List (several choices)"),
    FieldType.CHECKBOX: _l("Checkbox"),
}
VISIBILITY_LABELS = {
    ClientVisibility.INTERNAL: _l("Internal (staff only)"),
    ClientVisibility.VISIBLE: _l("Visible to the client"),
    ClientVisibility.EDITABLE: _l("Filled in by the client"),
}
TARGET_LABELS = {
    "first_response_minutes": _l("First response"),
    "next_response_minutes": _l("Next response"),
    "resolution_minutes": _l("Resolution"),
}
WEEKDAY_LABELS = {
    "0": _l("Monday"),
    "1": _l("Tuesday"),
    "2": _l("Wednesday"),
    "3": _l("Thursday"),
    "4": _l("Friday"),
    "5": _l("Saturday"),
    "6": _l("Sunday"),
}


def choices(labels: dict) -> list[tuple[str, str]]:
    return [(str(key), str(label)) for key, label in labels.items()]


def approval_rule_text(rule: str, needed: int, total: int) -> str:
    """How many of the approvers must approve, in words."""
    if rule == ApprovalRule.ANY:
        return _("any one of %(total)d approvers", total=total)
    if rule == ApprovalRule.ALL:
        return _("all %(total)d approvers", total=total)
    return _("%(needed)d of %(total)d approvers", needed=needed, total=total)


def approval_event_text(event: dict) -> str:
    """What an ``approval`` event of the timeline says (after its author's name)."""
    after = event.get("after") or {}
    if "vote" in after:
        if after["vote"] == VoteDecision.APPROVED:
            return _("approved the ticket") + (f": {after['comment']}" if after.get("comment") else "")
        return _("refused the ticket: %(comment)s", comment=after.get("comment") or "")
    state = after.get("state")
    if state == ApprovalState.PENDING:
        total = len(after.get("approvers") or [])
        return _(
            "asked for an approval (%(rule)s)",
            rule=approval_rule_text(after.get("rule"), after.get("needed") or 1, total),
        )
    if state == ApprovalState.APPROVED:
        return _("approval granted: the ticket goes on")
    if state == ApprovalState.REFUSED:
        return _("approval refused: the ticket is closed")
    return _("cancelled the approval")

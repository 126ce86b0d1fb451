"""How the desk pages name priorities, approval rules, field types and visibilities."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from desk.states import ApprovalRule, ClientVisibility, FieldType
from desk.statuses import PRIORITY_LABELS  # noqa: F401 - the desk pages read it as labels.PRIORITY_LABELS

APPROVAL_LABELS = {
    ApprovalRule.NONE: _l("No approval"),
    ApprovalRule.ANY: _l("Any approver"),
    ApprovalRule.ALL: _l("All approvers"),
    ApprovalRule.N_OF_M: _l("N of the approvers"),
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

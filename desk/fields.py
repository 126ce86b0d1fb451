"""A desk's custom fields (its ticket form) and the checking of their values.

Definitions: a label, a key (the value's name in ``tickets.field_values``, fixed once
made), a type, the options of choice fields, required or not, and what the client does
with it (internal, visible, editable). Archived fields keep their stored values but are
no longer asked.

:func:`clean_values` is the one server-side check of values, for staff and client forms
alike (the ticket rules call it): it returns the stored form of each value, or raises
:class:`DeskRejected` with a message per field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from desk.errors import DeskRejected
from desk.models import Desk, DeskField
from desk.states import CHOICE_TYPES, ClientVisibility, FieldType

MAX_TEXT = 255
MAX_LONG_TEXT = 10_000
MAX_OPTIONS = 50
MAX_NUMBER = 1e15
# The inputs of a form's custom fields are named ``field_<key>``.
FORM_PREFIX = "field_"
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def snapshot(definition: DeskField) -> dict:
    return {
        "key": definition.key,
        "label": definition.label,
        "type": definition.field_type,
        "options": list(definition.options or []),
        "required": definition.required,
        "client_visibility": definition.client_visibility,
        "archived": definition.archived_at is not None,
    }


def desk_fields(desk: Desk, *, archived: bool = False) -> list[DeskField]:
    query = select(DeskField).where(DeskField.desk_id == desk.id, DeskField.reseller_id == desk.reseller_id)
    if not archived:
        query = query.where(DeskField.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(DeskField.position, DeskField.id)))


def key_from_label(label: str) -> str:
    """``"Número do pedido"`` -> ``"numero_do_pedido"``."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")[:40]
    return key if key[:1].isalpha() else f"f_{key}"[:40]


def _clean_definition(label: str, field_type: str, options_text: str, visibility: str) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    label = " ".join((label or "").split())
    if not label or len(label) > 80:
        errors["label"] = _("The label is required (at most 80 characters).")
    if field_type not in tuple(FieldType):
        errors["field_type"] = _("Choose a type.")
    if visibility not in tuple(ClientVisibility):
        errors["client_visibility"] = _("Choose what the client sees.")
    options: list[str] = []
    if field_type in CHOICE_TYPES:
        for line in (options_text or "").splitlines():
            option = " ".join(line.split())
            if option and option not in options:
                options.append(option)
        if not options or len(options) > MAX_OPTIONS or any(len(o) > 80 for o in options):
            errors["options"] = _(
                "List the choices, one per line (1 to %(max)d, at most 80 characters each).", max=MAX_OPTIONS
            )
    return {
        "label": label,
        "field_type": field_type,
        "options": options,
        "client_visibility": visibility,
    }, errors


def add_field(
    desk: Desk,
    label: str,
    field_type: str,
    options_text: str = "",
    required: bool = False,
    visibility: str = "",
) -> DeskField:
    cleaned, errors = _clean_definition(
        label, field_type, options_text, visibility or ClientVisibility.INTERNAL
    )
    key = key_from_label(cleaned["label"]) if cleaned["label"] else ""
    taken = set(db.session.scalars(select(DeskField.key).where(DeskField.desk_id == desk.id)))
    base, n = key, 2
    while key in taken:
        key, n = f"{base[:36]}_{n}", n + 1
    if errors:
        raise DeskRejected(errors)
    last = db.session.scalar(select(func.max(DeskField.position)).where(DeskField.desk_id == desk.id))
    definition = DeskField(
        reseller_id=desk.reseller_id,
        desk_id=desk.id,
        key=key,
        required=bool(required),
        position=(last or 0) + 1,
    )
    for name, value in cleaned.items():
        setattr(definition, name, value)
    db.session.add(definition)
    db.session.flush()
    audit.record("desk_field.created", definition, details={"before": None, "after": snapshot(definition)})
    return definition


def update_field(
    definition: DeskField, label: str, options_text: str = "", required: bool = False, visibility: str = ""
) -> bool:
    """Change everything but the key and the type (stored values keep their meaning)."""
    cleaned, errors = _clean_definition(label, definition.field_type, options_text, visibility)
    if errors:
        raise DeskRejected(errors)
    before = snapshot(definition)
    for name, value in cleaned.items():
        setattr(definition, name, value)
    definition.required = bool(required)
    if snapshot(definition) == before:
        return False
    audit.record("desk_field.updated", definition, details={"before": before, "after": snapshot(definition)})
    return True


def archive_field(definition: DeskField) -> None:
    if definition.archived_at is None:
        before = snapshot(definition)
        definition.archived_at = utcnow()
        audit.record(
            "desk_field.archived", definition, details={"before": before, "after": snapshot(definition)}
        )


# --- values -------------------------------------------------------------------------------


def _as_list(raw) -> list:
    if raw is None or raw == "":
        return []
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def _empty(raw) -> bool:
    return (
        raw is None
        or (isinstance(raw, str) and not raw.strip())
        or (isinstance(raw, list | tuple) and not raw)
    )


def _clean_one(definition: DeskField, raw):
    """The stored form of one non-empty value; raises ValueError with the message."""
    kind = definition.field_type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        if not isinstance(raw, str):
            raise ValueError(_("Enter text."))
        limit = MAX_TEXT if kind == FieldType.TEXT else MAX_LONG_TEXT
        value = raw.strip() if kind == FieldType.LONG_TEXT else " ".join(raw.split())
        if len(value) > limit:
            raise ValueError(_("At most %(max)d characters.", max=limit))
        return value
    if kind == FieldType.NUMBER:
        try:
            number = float(str(raw).strip().replace(",", ".")) if not isinstance(raw, bool) else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            raise ValueError(_("Enter a number."))
        return int(number) if number.is_integer() else number
    if kind == FieldType.DATE:
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date (yyyy-mm-dd).")) from None
    if kind == FieldType.SELECT:
        if raw not in (definition.options or []):
            raise ValueError(_("Choose one of the options."))
        return raw
    if kind == FieldType.MULTI_SELECT:
        chosen = _as_list(raw)
        if any(c not in (definition.options or []) for c in chosen):
            raise ValueError(_("Choose among the options."))
        return [o for o in definition.options if o in chosen]
    if kind == FieldType.CHECKBOX:
        if raw in (True, "1", "on", "true", "y", "yes"):
            return True
        if raw in (False, "0", "off", "false", "n", "no"):
            return False
        raise ValueError(_("Tick the box or leave it."))
    raise ValueError(_("This field cannot be filled in."))


# How far a field reaches the client, narrowest first.
_REACH = {ClientVisibility.INTERNAL: 0, ClientVisibility.VISIBLE: 1, ClientVisibility.EDITABLE: 2}


def carried_values(definitions: list[DeskField], values: dict, previous: list[DeskField] = ()) -> dict:
    """The stored values another form keeps (a ticket moved to another desk): those of a
    key it asks, still valid for that field there (the same key may be another type), and
    never shown to the client there when they were not before (``previous``: the old
    form's fields; a value of a key it lacks reaches no further than internal)."""
    reach_before = {d.key: _REACH[ClientVisibility(d.client_visibility)] for d in previous}
    kept = {}
    for definition in definitions:
        if _REACH[ClientVisibility(definition.client_visibility)] > reach_before.get(definition.key, 0):
            continue
        if definition.archived_at is None and not _empty(values.get(definition.key)):
            try:
                kept[definition.key] = _clean_one(definition, values[definition.key])
            except ValueError:
                continue
    return kept


def submitted_values(form, definitions: list[DeskField]) -> dict:
    """The custom field values a form sent (its ``field_<key>`` inputs, a werkzeug
    MultiDict), in the shape :func:`clean_values` takes: a multi-select's chosen options as
    a list (its hidden empty input sends "none chosen"), a checkbox's "1" when ticked, else
    its hidden "0". A key sent for no field is kept, so that it is refused."""
    types = {d.key: d.field_type for d in definitions}
    values = {}
    for name, sent in form.lists():
        if not name.startswith(FORM_PREFIX):
            continue
        key = name.removeprefix(FORM_PREFIX)
        if types.get(key) == FieldType.MULTI_SELECT:
            values[key] = [option for option in sent if option]
        elif types.get(key) == FieldType.CHECKBOX:
            values[key] = "1" if "1" in sent else sent[-1]
        else:
            values[key] = sent[0] if len(sent) == 1 else sent
    return values


def clean_values(
    definitions: list[DeskField], submitted: dict, *, current: dict | None = None, by_client: bool = False
) -> dict:
    """The field values to store: ``current`` with the ``submitted`` ones checked and
    applied. A client fills in only the fields it may edit (others are kept as they were;
    a value for one is refused); a required field must hold a value; an unknown key is
    refused. Raises DeskRejected with a message per field key."""
    values = dict(current or {})
    errors: dict[str, str] = {}
    by_key = {d.key: d for d in definitions}
    for key in submitted:
        definition = by_key.get(key)
        if definition is None or definition.archived_at is not None:
            errors[key] = _("This field is not on the desk's form.")
        elif by_client and definition.client_visibility != ClientVisibility.EDITABLE:
            errors[key] = _("This field cannot be changed.")
    for definition in definitions:
        if definition.archived_at is not None or definition.key in errors:
            continue
        if definition.key in submitted:
            raw = submitted[definition.key]
            if _empty(raw) and definition.field_type != FieldType.CHECKBOX:
                values.pop(definition.key, None)
            else:
                try:
                    values[definition.key] = _clean_one(definition, raw)
                except ValueError as exc:
                    errors[definition.key] = str(exc)
                    continue
        client_may_fill = definition.client_visibility == ClientVisibility.EDITABLE
        value = values.get(definition.key)
        # A required checkbox must be ticked (an agreement, a confirmation).
        missing = value is not True if definition.field_type == FieldType.CHECKBOX else _empty(value)
        if definition.required and (client_may_fill or not by_client) and missing:
            errors[definition.key] = _("%(label)s is required.", label=definition.label)
    if errors:
        raise DeskRejected(errors)
    return values

"""The documents of desks and tickets (``api.ticket_pages``): what the OpenAPI document
describes and what request bodies are read with (an unknown field is refused). The desk
rules' own checks stay in the rules."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import RAISE, Schema, fields, validate

from api import ticket_pages
from desk.queue_filters import SORTS, STATUS_CHOICES
from desk.states import ApprovalRule, FieldType, Priority, SlaState
from desk.ticket_files import MAX_FILES

_ID = validate.Range(1, 2**31 - 1)


def _choice(values, **kw):
    return fields.String(metadata={"enum": [str(v) for v in values], **kw})


def _ref(**extra):
    return {"id": fields.Integer(required=True), "name": fields.String(allow_none=True), **extra}


class DeskFieldSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": [str(t) for t in FieldType]})
    required = fields.Boolean(required=True)
    options = fields.List(fields.String(), required=True)
    client_visibility = fields.String(required=True)


class DeskReviewSchema(Schema):
    enabled = fields.Boolean(required=True)
    timeout_days = fields.Integer(allow_none=True, metadata={"description": "Accepted by itself after them."})


class DeskApprovalSchema(Schema):
    rule = fields.String(required=True, metadata={"enum": [str(r) for r in ApprovalRule]})
    needed = fields.Integer(allow_none=True, metadata={"description": "For the rule `n_of_m`."})


class DeskSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    archived = fields.Boolean(required=True)
    archived_at = fields.DateTime(allow_none=True)
    default_priority = fields.String(required=True, metadata={"enum": [str(p) for p in Priority]})
    intake_email = fields.String(allow_none=True)
    reopen_window_days = fields.Integer(required=True)
    review = fields.Nested(DeskReviewSchema, required=True)
    approval = fields.Nested(DeskApprovalSchema, required=True)
    desk_fields = fields.List(fields.Nested(DeskFieldSchema), required=True, data_key="fields")


class DeskListSchema(Schema):
    data = fields.List(fields.Nested(DeskSchema), required=True)
    has_more = fields.Boolean(required=True)


class TicketListArgs(Schema):
    """The list's query: the staff queue's filters and sorts, checked by its rules."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        load_default=ticket_pages.DEFAULT_LIMIT, validate=validate.Range(1, ticket_pages.MAX_LIMIT)
    )
    starting_after = fields.Integer(validate=_ID, metadata={"description": "A ticket id: the page after it."})
    desk = fields.Integer(validate=_ID, metadata={"description": "A desk id."})
    status = _choice(STATUS_CHOICES, description="A status kind, `open_work` (the default) or `all`.")
    priority = _choice(Priority)
    assignee = fields.String(metadata={"description": "A staff member's id, or `none`."})
    client = fields.String(metadata={"description": "A client id."})
    sla = _choice(SlaState)
    q = fields.String(metadata={"description": "Words of the subject, or `#number`."})
    sort = _choice(SORTS)
    dir = _choice(("asc", "desc"))


class PersonSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(allow_none=True)


class TicketStatusRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(allow_none=True)
    kind = fields.String(required=True)


class SlaSchema(Schema):
    state = fields.String(required=True, metadata={"enum": [str(s) for s in SlaState]})
    first_response_due_at = fields.DateTime(allow_none=True)
    next_response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True)


class TicketSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    desk = fields.Nested(Schema.from_dict(_ref(), name="DeskRef"), required=True)
    client = fields.Nested(
        Schema.from_dict(
            {"id": fields.Integer(required=True), "trade_name": fields.String(allow_none=True)},
            name="ClientRef",
        ),
        required=True,
    )
    requester = fields.Nested(PersonSchema, allow_none=True, required=True)
    subject = fields.String(required=True)
    description = fields.String(required=True)
    priority = fields.String(required=True, metadata={"enum": [str(p) for p in Priority]})
    status = fields.Nested(TicketStatusRefSchema, required=True)
    assignee = fields.Nested(PersonSchema, allow_none=True, required=True)
    custom_fields = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    sla = fields.Nested(SlaSchema, required=True)
    followers = fields.List(fields.Nested(PersonSchema), required=True)
    merged_into_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    last_activity_at = fields.DateTime(required=True)
    first_responded_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class TicketListSchema(Schema):
    data = fields.List(fields.Nested(TicketSchema), required=True)
    has_more = fields.Boolean(required=True)


class AuthorSchema(Schema):
    type = fields.String(required=True, metadata={"enum": ["staff", "client_user", "api_client", "system"]})
    id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes."})
    url = fields.String(required=True, metadata={"description": "Its download (scope `tickets:read`)."})


class EntrySchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": ["public_reply", "internal_note", "event"]})
    author = fields.Nested(AuthorSchema, required=True)
    acting_as = fields.Nested(Schema.from_dict(_ref(), name="ActingAs"), allow_none=True)
    body = fields.String(allow_none=True)
    event = fields.Dict(allow_none=True, metadata={"description": "`type`, `before`, `after`."})
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)
    created_at = fields.DateTime(required=True)


class TimelineSchema(Schema):
    data = fields.List(fields.Nested(EntrySchema), required=True)
    has_more = fields.Boolean(required=True)


_CUSTOM = fields.Dict(
    keys=fields.String(),
    values=fields.Raw(allow_none=True),
    metadata={
        "description": "Values by the desk's field keys (text, number, yyyy-mm-dd, option(s), true/false)."
    },
)


class TicketCreateSchema(Schema):
    """A ticket for a user of a client, on a desk serving the client (the staff's form)."""

    class Meta:
        unknown = RAISE

    client_id = fields.Integer(required=True, validate=_ID)
    requester_id = fields.Integer(
        required=True, validate=_ID, metadata={"description": "A user of the client."}
    )
    desk_id = fields.Integer(required=True, validate=_ID)
    subject = fields.String(required=True)
    description = fields.String()
    priority = fields.String(
        metadata={"enum": [str(p) for p in Priority], "description": "Default: the desk's."}
    )
    custom_fields = _CUSTOM


class TicketUpdateSchema(Schema):
    """The changes of the staff ticket page's side panel; the others stay."""

    class Meta:
        unknown = RAISE

    status_id = fields.Integer(validate=_ID)
    priority = fields.String(metadata={"enum": [str(p) for p in Priority]})
    assignee_id = fields.Integer(validate=_ID, allow_none=True, metadata={"description": "null: nobody."})
    custom_fields = _CUSTOM


class EntryBodySchema(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True)


class EntryFormSchema(Schema):
    """The same entry sent as ``multipart/form-data``, with its files."""

    body = fields.String(required=True)
    files = fields.List(
        Upload(),
        metadata={
            "description": f"Up to {MAX_FILES} files, each checked by its content (type and size) "
            "as the staff's own attachments."
        },
    )


ENTRY_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": EntryBodySchema},
        "multipart/form-data": {"schema": EntryFormSchema},
    },
}


class FollowerSchema(PersonSchema):
    type = fields.String(required=True, metadata={"enum": ["staff", "client_user"]})


class FollowerListSchema(Schema):
    data = fields.List(fields.Nested(FollowerSchema), required=True)


class FollowerAddSchema(Schema):
    class Meta:
        unknown = RAISE

    account_id = fields.Integer(
        required=True,
        validate=_ID,
        metadata={"description": "A user of the ticket's client, or a staff member who works its desk."},
    )


class MoveSchema(Schema):
    class Meta:
        unknown = RAISE

    desk_id = fields.Integer(
        required=True, validate=_ID, metadata={"description": "A desk serving the client."}
    )


class MergeSchema(Schema):
    class Meta:
        unknown = RAISE

    into_id = fields.Integer(
        required=True, validate=_ID, metadata={"description": "A ticket of the same client."}
    )

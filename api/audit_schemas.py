"""The audit log's documents as marshmallow schemas (``GET /api/v1/audit-events``)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from api import audit_events
from core.audit_labels import ACTION_LABELS
from core.states import ActorKind


class AuditActorSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": [str(k) for k in ActorKind]})
    account_id = fields.Integer(allow_none=True, required=True)
    api_client_id = fields.Integer(allow_none=True, required=True)
    label = fields.String(allow_none=True, required=True)


class AuditTargetSchema(Schema):
    type = fields.String(required=True)
    id = fields.String(allow_none=True, required=True)


class AuditEventSchema(Schema):
    id = fields.Integer(required=True)
    action = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    actor = fields.Nested(AuditActorSchema, required=True)
    acting_as_account_id = fields.Integer(
        allow_none=True, required=True, metadata={"description": "The user a staff member was logged in as."}
    )
    client_id = fields.Integer(allow_none=True, required=True)
    target = fields.Nested(AuditTargetSchema, allow_none=True, required=True)
    details = fields.Dict(required=True)
    ip = fields.String(allow_none=True, required=True)
    user_agent = fields.String(allow_none=True, required=True)
    seq = fields.Integer(
        allow_none=True, required=True, metadata={"description": "Place in the reseller's hash chain."}
    )
    digest = fields.String(allow_none=True, required=True)


class AuditListSchema(Schema):
    data = fields.List(fields.Nested(AuditEventSchema), required=True)
    has_more = fields.Boolean(required=True)


class AuditListArgs(Schema):
    """The audit page's filters; newest first, a page after an event's id."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        load_default=audit_events.DEFAULT_LIMIT, validate=validate.Range(1, audit_events.MAX_LIMIT)
    )
    starting_after = fields.Integer(
        validate=validate.Range(1, 2**63 - 1), metadata={"description": "An event id: the page after it."}
    )
    kind = fields.String(metadata={"enum": [str(k) for k in ActorKind]})
    acting_as = fields.Boolean(metadata={"description": "Only what staff did while logged in as a user."})
    action = fields.String(metadata={"enum": sorted(ACTION_LABELS)})
    client = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    object_type = fields.String(validate=validate.Length(max=40))
    object_id = fields.String(validate=validate.Length(max=40))
    ip = fields.String(metadata={"description": "IPv4 or IPv6."})
    date_from = fields.String(metadata={"format": "date", "description": "Local (São Paulo) day."})
    date_to = fields.String(metadata={"format": "date"})

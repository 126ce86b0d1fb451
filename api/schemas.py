"""The API's documents as marshmallow schemas: what the OpenAPI document describes and
what request bodies are read with (an unknown field is refused: no ``reseller_id`` or
other field outside these is ever bound). The rules' own checks stay in the rules."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from api import client_pages
from reseller.client_list import SUSPENSION_FILTERS
from reseller.states import STATUS_FILTERS
from tenant.models import DOCUMENT_TYPES, PAYMENT_STATUSES, PAYMENT_TYPES, SLA_LEVELS, SORTABLE_COLUMNS


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable code."})
    param = fields.String(allow_none=True, metadata={"description": "The parameter at fault."})
    request_id = fields.String(required=True)
    error = fields.String(metadata={"description": "OAuth2 error code (token endpoint)."})
    error_description = fields.String()


class PlanRefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(allow_none=True)


def _text(**kw):
    return fields.String(allow_none=True, **kw)


class ClientSchema(Schema):
    id = fields.Integer(required=True)
    trade_name = fields.String(required=True)
    legal_name = fields.String(required=True)
    email = fields.String(required=True)
    phone = _text(metadata={"description": "E.164"})
    document_type = fields.String(required=True)
    document = fields.String(required=True, metadata={"description": "Digits only."})
    sla_level = fields.String(required=True)
    postal_code = _text()
    street = _text()
    street_number = _text()
    complement = _text()
    district = _text()
    city = _text()
    state = _text()
    status = fields.String(required=True)
    plan = fields.Nested(PlanRefSchema, allow_none=True, required=True)
    sessions_remaining = fields.Integer(allow_none=True)
    suspended = fields.Boolean(required=True)
    suspension_reason = _text()
    payment_type = _text()
    payment_status = _text()
    due_date = fields.Date(allow_none=True)
    last_payment_date = fields.Date(allow_none=True)
    created_at = fields.DateTime(required=True)
    inactivated_at = fields.DateTime(allow_none=True)
    responsible_account_id = fields.Integer(allow_none=True)
    custom_fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ClientListSchema(Schema):
    data = fields.List(fields.Nested(ClientSchema), required=True)
    has_more = fields.Boolean(required=True)


def _choice(values, **kw):
    return fields.String(metadata={"enum": [str(v) for v in values], **kw})


class ClientListArgs(Schema):
    """The list's query: the panel's filters and sorts, checked by the panel's rules."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        load_default=client_pages.DEFAULT_LIMIT, validate=validate.Range(1, client_pages.MAX_LIMIT)
    )
    starting_after = fields.Integer(
        validate=validate.Range(1, 2**31 - 1), metadata={"description": "A client id: the page after it."}
    )
    trade_name = fields.String()
    legal_name = fields.String()
    status = _choice(STATUS_FILTERS)
    id = fields.String(metadata={"description": "A client id."})
    plan = fields.String(metadata={"description": "A plan id, or `none`."})
    suspended = _choice(SUSPENSION_FILTERS)
    created_from = fields.String(metadata={"format": "date"})
    created_to = fields.String(metadata={"format": "date"})
    payment_type = _choice(PAYMENT_TYPES)
    payment_status = _choice(PAYMENT_STATUSES)
    sort = _choice(SORTABLE_COLUMNS)
    dir = _choice(("asc", "desc"))


class ClientUpdateSchema(Schema):
    """The client's fields (the panel's form); checked by the panel's rules."""

    class Meta:
        unknown = RAISE

    trade_name = fields.String()
    legal_name = fields.String()
    email = fields.String()
    document_type = fields.String(metadata={"enum": list(DOCUMENT_TYPES)})
    document = fields.String()
    sla_level = fields.String(metadata={"enum": list(SLA_LEVELS)})
    phone = fields.String()
    postal_code = fields.String()
    street = fields.String()
    street_number = fields.String()
    complement = fields.String()
    district = fields.String()
    city = fields.String()
    state = fields.String()
    responsible_email = fields.String()
    responsible_name = fields.String()
    custom_fields = fields.Dict(keys=fields.String(), values=fields.String())


class ClientCreateSchema(ClientUpdateSchema):
    trade_name = fields.String(required=True)
    legal_name = fields.String(required=True)
    email = fields.String(required=True)
    document_type = fields.String(required=True, metadata={"enum": list(DOCUMENT_TYPES)})
    document = fields.String(required=True)

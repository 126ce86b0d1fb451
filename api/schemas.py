"""The API's documents as marshmallow schemas: what the OpenAPI document describes and
what request bodies are read with (an unknown field is refused: no ``reseller_id`` or
other field outside these is ever bound). The rules' own checks stay in the rules."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from api import client_pages
from auth import permissions as perm
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


class ReasonSchema(Schema):
    """A suspension's (or its lifting's) written reason, kept in the history."""

    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, metadata={"description": "3 to 200 characters."})


class DeletionWarningSchema(Schema):
    """What the deletion removes (the panel's warning) and the token that confirms it."""

    client_id = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    kept_audit_entries = fields.Integer(required=True)
    purge_delay_hours = fields.Integer(required=True)
    confirmation_token = fields.String(
        required=True, metadata={"description": "Single use, for this client and this API client."}
    )
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class DeletionConfirmSchema(Schema):
    class Meta:
        unknown = RAISE

    confirmation_token = fields.String(required=True)


class DeletionSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    status = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    purge_due_at = fields.DateTime(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ClientUserSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    chat_level = fields.Integer(required=True)
    view_phones = fields.Boolean(required=True)
    permissions = fields.List(fields.String(), required=True)
    is_active = fields.Boolean(required=True)
    deactivated_by_staff = fields.Boolean(required=True)
    awaiting_acceptance = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    last_login_at = fields.DateTime(allow_none=True)


class ClientUserListSchema(Schema):
    data = fields.List(fields.Nested(ClientUserSchema), required=True)
    has_more = fields.Boolean(required=True)


class PageArgs(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(
        load_default=client_pages.DEFAULT_LIMIT, validate=validate.Range(1, client_pages.MAX_LIMIT)
    )
    starting_after = fields.Integer(
        validate=validate.Range(1, 2**31 - 1), metadata={"description": "An id: the page after it."}
    )


_PERMISSION_NAMES = sorted(perm.CLIENT_USER_PERMISSIONS)


class ClientUserUpdateSchema(Schema):
    """A user's profile (the panel's form); what may be granted is checked by the rules."""

    class Meta:
        unknown = RAISE

    name = fields.String()
    chat_level = fields.Integer(metadata={"enum": sorted(perm.CHAT_LEVELS)})
    view_phones = fields.Boolean()
    permissions = fields.List(fields.String(metadata={"enum": _PERMISSION_NAMES}))


class ClientUserCreateSchema(ClientUserUpdateSchema):
    name = fields.String(required=True)
    email = fields.String(required=True)
    permissions = fields.List(
        fields.String(metadata={"enum": _PERMISSION_NAMES}),
        metadata={"description": "Default: " + ", ".join(perm.DEFAULT_CLIENT_USER_PERMISSIONS)},
    )


class LoginLinkBodySchema(Schema):
    """The staff member who will log in as the user: by id or by e-mail (one of them)."""

    class Meta:
        unknown = RAISE

    staff_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    staff_email = fields.String()


class LoginLinkSchema(Schema):
    url = fields.String(
        required=True,
        metadata={"description": "Opens only in a browser logged in as that staff member; once, for 60 s."},
    )
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})
    staff_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)

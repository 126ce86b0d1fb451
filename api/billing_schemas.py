"""The billing documents of the API (plans, a subscription and its change, invoices and
payments, the period's use) as marshmallow schemas; the rules' checks stay in the rules."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from api.schemas import PlanRefSchema
from billing.invoices import MANUAL_METHODS
from billing.models import PAYMENT_METHODS
from billing.states import PlanChangeOutcome
from billing.subscriptions import CANCEL_WHEN


class MoneySchema(Schema):
    amount = fields.Integer(required=True, metadata={"description": "Integer cents."})
    currency = fields.String(required=True)


class PlanSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    price = fields.Nested(MoneySchema, required=True)
    period = fields.String(required=True)
    sessions_per_period = fields.Integer(required=True)
    retired = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class PlanListSchema(Schema):
    data = fields.List(fields.Nested(PlanSchema), required=True)
    has_more = fields.Boolean(required=True)


class SubscriptionSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    plan = fields.Nested(PlanRefSchema, required=True, allow_none=True)
    status = fields.String(required=True)
    payment_method = fields.String(required=True)
    current_period_start = fields.Date(allow_none=True)
    current_period_end = fields.Date(allow_none=True)
    cancel_at_period_end = fields.Boolean(required=True)
    next_plan = fields.Nested(PlanRefSchema, allow_none=True)
    managed_in_stripe = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    cancelled_at = fields.DateTime(allow_none=True)


class PaymentSchema(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    subscription_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    amount = fields.Nested(MoneySchema, required=True)
    payment_type = fields.String(required=True)
    status = fields.String(required=True)
    due_date = fields.Date(required=True)
    paid_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class PaymentListSchema(Schema):
    data = fields.List(fields.Nested(PaymentSchema), required=True)
    has_more = fields.Boolean(required=True)


class PlanChangeArgs(Schema):
    class Meta:
        unknown = RAISE

    preview = fields.Boolean(
        load_default=False, metadata={"description": "Say what the change would do; change nothing."}
    )


class PlanChangeBodySchema(Schema):
    class Meta:
        unknown = RAISE

    plan_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    method = fields.String(required=True, metadata={"enum": [str(m) for m in PAYMENT_METHODS]})


class PlanChangeSchema(Schema):
    preview = fields.Boolean(required=True)
    outcome = fields.String(required=True, metadata={"enum": [str(o) for o in PlanChangeOutcome]})
    amount = fields.Nested(MoneySchema, required=True, metadata={"description": "What is invoiced now."})
    credit = fields.Nested(MoneySchema, required=True, metadata={"description": "The old plan's credit."})
    days_left = fields.Integer(required=True)
    cancellation_undone = fields.Boolean(required=True)
    invoice = fields.Nested(PaymentSchema, allow_none=True, required=True)
    subscription = fields.Nested(SubscriptionSchema, allow_none=True, required=True)


class CancelSchema(Schema):
    class Meta:
        unknown = RAISE

    when = fields.String(required=True, metadata={"enum": list(CANCEL_WHEN)})


class ManualPaymentSchema(Schema):
    class Meta:
        unknown = RAISE

    method = fields.String(required=True, metadata={"enum": list(MANUAL_METHODS)})


class UsageDaySchema(Schema):
    day = fields.Date(required=True)
    sessions = fields.Integer(required=True)


class UsageSchema(Schema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(allow_none=True)
    sessions_used = fields.Integer(required=True)
    sessions_remaining = fields.Integer(allow_none=True)
    days = fields.List(fields.Nested(UsageDaySchema), required=True)

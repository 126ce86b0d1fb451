"""``/api/v1/plans`` and a client's billing under ``/api/v1/clients/{id}``: its
subscription (read, plan changed with the panel's preview, cancelled), its invoices and
payments (a manual payment recorded) and what it used of its period, all by the
billing rules (``api.billing_pages``)."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from api import billing_pages
from api.billing_schemas import (
    CancelSchema,
    ManualPaymentSchema,
    PaymentListSchema,
    PaymentSchema,
    PlanChangeArgs,
    PlanChangeBodySchema,
    PlanChangeSchema,
    PlanListSchema,
    SubscriptionSchema,
    UsageSchema,
)
from api.conventions import conditional
from api.idempotency import idempotent
from api.protection import require_scope
from api.schemas import PageArgs
from api.states import ApiScope
from api.views.blueprints import IDEMPOTENCY, problems, security, v1, with_client
from billing.models import Payment
from core.tenancy import get_or_404
from tenant.models import Client

READ, WRITE = ApiScope.BILLING_READ, ApiScope.BILLING_WRITE


def _list(rows, has_more: bool, as_json):
    return jsonify({"data": [as_json(r) for r in rows], "has_more": has_more})


@v1.route("/plans", tags=["Billing"])
class Plans(MethodView):
    @security(READ)
    @problems(401, 403, 422, 429)
    @require_scope(READ)
    @v1.arguments(PageArgs, location="query", as_kwargs=True)
    @v1.response(200, PlanListSchema)
    def get(self, limit=billing_pages.DEFAULT_LIMIT, starting_after=None):
        """The reseller's plans (retired ones too, marked), in id order, a page at a time."""
        rows, has_more = billing_pages.plans_page(limit, starting_after)
        return _list(rows, has_more, billing_pages.plan_json)


@v1.route("/clients/<int:client_id>/subscription", tags=["Billing"])
class ClientSubscription(MethodView):
    @security(READ)
    @problems(401, 403, 404, 429)
    @v1.response(200, SubscriptionSchema)
    @v1.alt_response(304, description="Not modified (If-None-Match)")
    @require_scope(READ)
    @with_client()
    def get(self, client: Client):
        """The client's current plan (a 404 ``no_subscription`` when it has none)."""
        sub = billing_pages.subscription_or_404(client)
        return conditional(jsonify(billing_pages.subscription_json(sub)))


@v1.route("/clients/<int:client_id>/subscription/change", methods=["POST"], tags=["Billing"])
@security(WRITE)
@problems(400, 401, 403, 404, 409, 422, 429, 503)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(PlanChangeArgs, location="query", as_kwargs=True)
@v1.arguments(PlanChangeBodySchema)
@v1.response(200, PlanChangeSchema)
def client_plan_change(values, client: Client, preview: bool = False):
    """Change the plan or its payment type, as the panel does: an upgrade invoices the
    rest of the period, a downgrade waits for its end. ``preview=true`` says what the
    change would do (amount, credit, days left) and changes nothing."""
    return jsonify(billing_pages.change_plan(client, values["plan_id"], values["method"], preview=preview))


@v1.route("/clients/<int:client_id>/subscription/cancel", methods=["POST"], tags=["Billing"])
@security(WRITE)
@problems(400, 401, 403, 404, 409, 422, 429, 503)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(CancelSchema)
@v1.response(200, SubscriptionSchema)
def client_plan_cancel(values, client: Client):
    """Cancel ``now`` (open invoices not yet overdue are voided) or at ``period_end``."""
    sub = billing_pages.cancel(client, values["when"])
    return jsonify(billing_pages.subscription_json(sub))


@v1.route("/clients/<int:client_id>/payments", tags=["Billing"])
class ClientPayments(MethodView):
    @security(READ)
    @problems(401, 403, 404, 422, 429)
    @require_scope(READ)
    @with_client()
    @v1.arguments(PageArgs, location="query", as_kwargs=True)
    @v1.response(200, PaymentListSchema)
    def get(self, client: Client, limit=billing_pages.DEFAULT_LIMIT, starting_after=None):
        """The client's invoices and payments, newest first, a page at a time."""
        rows, has_more = billing_pages.payments_page(client, limit, starting_after)
        return _list(rows, has_more, billing_pages.payment_json)


@v1.route("/clients/<int:client_id>/payments/<int:payment_id>/paid", methods=["POST"], tags=["Billing"])
@security(WRITE)
@problems(400, 401, 403, 404, 409, 422, 429)
@v1.doc(parameters=[IDEMPOTENCY])
@require_scope(WRITE)
@idempotent
@with_client(for_update=True)
@v1.arguments(ManualPaymentSchema)
@v1.response(200, PaymentSchema)
def client_payment_paid(values, client: Client, payment_id: int):
    """Record that an open invoice was paid by transfer or in cash (a suspension for
    that debt is lifted, as in the panel)."""
    payment = get_or_404(Payment, payment_id, client_id=client.id, for_update=True)
    billing_pages.record_payment(payment, values["method"])
    return jsonify(billing_pages.payment_json(payment))


@v1.route("/clients/<int:client_id>/usage", tags=["Billing"])
class ClientUsage(MethodView):
    @security(READ)
    @problems(401, 403, 404, 429)
    @require_scope(READ)
    @with_client()
    @v1.response(200, UsageSchema)
    def get(self, client: Client):
        """Sessions used in the current period (per local day, the last 31 days at most)
        and sessions remaining."""
        return jsonify(billing_pages.usage(client))

"""The Stripe webhook endpoint (``POST /webhooks/stripe``): thin over
:mod:`billing.stripe.intake`, which verifies the event and stores it before the 2xx.
Applying it is a job (:mod:`billing.stripe.inbox`)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from auth.access import public
from billing.stripe import intake
from core.access import tenantless
from core.extensions import csrf

bp = Blueprint("stripe_webhooks", __name__)


@bp.post("/webhooks/stripe")
@public
@tenantless
@csrf.exempt
def receive():
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    raw = request.get_data(cache=False)
    if not secret or len(raw) > intake.MAX_BODY:
        return jsonify(error="not accepted"), 400
    try:
        event = intake.verify(raw, request.headers.get("Stripe-Signature", ""), secret)
    except intake.NotAnEvent as exc:
        return jsonify(error=str(exc)), 400
    intake.store(event, raw.decode("utf-8"))
    # The event is durable now. If its job could not be queued (Redis down), the
    # answer is still 2xx: the sweeper applies the row later.
    return jsonify(received=True), 200

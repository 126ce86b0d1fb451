"""Meta's webhook (``/webhooks/whatsapp``): the subscription check (GET) and the
deliveries (POST), thin over :mod:`whatsapp.intake`. Tenantless (the channel is found
by the phone number id the payload names), CSRF-exempt (signed)."""

from __future__ import annotations

from flask import jsonify, request

from auth.access import public
from core.access import tenantless
from core.extensions import csrf, limiter
from whatsapp import channels, intake
from whatsapp.views.blueprints import webhook_bp


@webhook_bp.get("/webhooks/whatsapp")
@public
@tenantless
@limiter.limit("60 per minute")
def verify():
    """Meta's subscription check: the challenge echoed when the verify token is a
    channel's."""
    mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if mode != "subscribe" or not channels.verify_token_matches(token) or not 0 < len(challenge) <= 200:
        return jsonify(error="verification refused"), 403
    return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}


@webhook_bp.post("/webhooks/whatsapp")
@public
@tenantless
@csrf.exempt
def receive():
    """A delivery: signature first (nothing is stored without it), then the raw event
    stored before the 200; applying it is a job."""
    if (request.content_length or 0) > intake.MAX_BODY:
        return jsonify(error="too large"), 413
    raw = request.get_data(cache=False)
    if len(raw) > intake.MAX_BODY:
        return jsonify(error="too large"), 413
    try:
        found = intake.verify(raw, request.headers.get("X-Hub-Signature-256"))
    except intake.Refused as refused:
        return jsonify(error=str(refused)), refused.status
    intake.store(found, raw)
    return jsonify(received=True), 200

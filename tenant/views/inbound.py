"""The inbound channel (``POST /inbound/<key>``): a contact's message, signed with the
client's channel secret. Public, CSRF-exempt, rate-limited."""

from __future__ import annotations

import json

from flask import jsonify, request

from auth.access import public
from core.extensions import csrf, db, limiter
from tenant import inbox
from tenant.directory import client_of_channel
from tenant.phones import normalise_phone
from tenant.views.blueprints import inbound_bp

MAX_TEXT = 4000


@inbound_bp.post("/inbound/<channel_key>")
@public
@csrf.exempt
@limiter.limit("600 per minute")
def inbound(channel_key: str):
    """A contact's message from the channel, signed with the client's channel secret
    (``X-Signature: sha256=<hex HMAC of the raw body>``)."""
    client = client_of_channel(channel_key)
    raw = request.get_data(cache=True)
    if client is None or not inbox.signature_ok(
        client.channel_secret, raw, request.headers.get("X-Signature")
    ):
        return jsonify(error="invalid signature"), 401
    message = _inbound_message(raw)
    if message is None:
        return jsonify(error="expected JSON with from (phone), text (≤ 4000) and id"), 400
    result = inbox.receive(client, **message)
    db.session.commit()
    return jsonify(
        message_id=result.message.id,
        conversation_id=result.message.conversation_id,
        duplicate=result.duplicate,
        window=result.window is not None or result.duplicate,
        refused=result.refused,
    ), (200 if result.duplicate else 201)


def _inbound_message(raw: bytes) -> dict | None:
    """The fields of an inbound message as ``inbox.receive`` takes them, or ``None``
    when the body is not a JSON object with a phone, a text (≤ 4000) and an id."""
    try:
        # UTF-8 text only: json.loads(bytes) would also read UTF-16/32, whose NUL bytes
        # the NUL guard (core.validation) does not see; a raw NUL in text is no JSON.
        payload = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    sender, text, external_id, name = (payload.get(key) for key in ("from", "text", "id", "name"))
    # The phone and the id may come as numbers; booleans, lists and objects are no message.
    scalars = all(isinstance(v, str | int) and not isinstance(v, bool) for v in (sender, external_id))
    if not scalars or not isinstance(text, str) or not isinstance(name, str | None):
        return None
    phone = normalise_phone(str(sender))
    text, external_id = text.strip(), str(external_id).strip()[:100]
    if phone is None or not text or not external_id or len(text) > MAX_TEXT:
        return None
    return dict(phone=phone, name=(name or "")[:120] or None, text=text, external_id=external_id)

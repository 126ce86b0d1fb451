"""The inbound mail webhook (``POST /mail/inbound``): a provider posts the raw MIME
message, signed (:mod:`intake.signatures`). Thin over :func:`intake.inbox.store`: the
message is kept before the 202; processing it is a job.

The body is read in chunks into a spooled temporary file (memory up to 1 MB, then disk)
while its signature is computed; past 30 MB the reading stops with a 413. Nothing is
stored for a refused request."""

from __future__ import annotations

import tempfile

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from auth.access import public
from core.access import streams_body, tenantless
from core.extensions import csrf
from intake import inbox, signatures
from intake.states import ReceivedVia

bp = Blueprint("mail_inbound", __name__)

CHUNK = 64 * 1024
IN_MEMORY = 1024 * 1024


def _refused(status: int, reason: str):
    return jsonify(error=reason), status


@bp.post("/mail/inbound")
@public
@tenantless
@streams_body
@csrf.exempt
def receive():
    secret = current_app.config.get("MAIL_INBOUND_SECRET")
    if not secret:
        return _refused(401, "not configured")
    try:
        signer = signatures.BodySigner(
            secret, signatures.read_timestamp(request.headers.get(signatures.TIMESTAMP_HEADER))
        )
    except signatures.BadSignature as exc:
        return _refused(401, str(exc))
    # The application's 8 MB request limit is this endpoint's 30 MB (Werkzeug then
    # refuses a larger Content-Length at once, and stops a chunked body at the limit).
    request.max_content_length = inbox.MAX_MESSAGE_BYTES
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as body:
        try:
            size = 0
            while chunk := request.stream.read(CHUNK):
                size += len(chunk)
                if size > inbox.MAX_MESSAGE_BYTES:
                    raise RequestEntityTooLarge()
                signer.update(chunk)
                body.write(chunk)
        except RequestEntityTooLarge:
            return _refused(413, "message over 30 MB")
        except ClientDisconnected:
            return _refused(400, "incomplete body")
        try:
            signer.check(request.headers.get(signatures.SIGNATURE_HEADER))
        except signatures.BadSignature as exc:
            return _refused(401, str(exc))
        if size == 0:
            return _refused(400, "empty message")
        body.seek(0)
        message_id = inbox.store(body, via=ReceivedVia.WEBHOOK)
    # The message is durable now. If its job could not be queued (Redis down), the
    # answer is still 2xx: the sweep processes the row later.
    return jsonify(received=True, id=message_id), 202

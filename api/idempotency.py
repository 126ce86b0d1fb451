"""``Idempotency-Key`` on POST: the response is kept 24 hours per API client. The same
key with the same body replays it (``Idempotent-Replayed: true``); the same key with
another body is a 422 ``idempotency_key_reused``. The response is stored in the
transaction of the work itself, so either both happen or neither."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import g, make_response, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from api.models import ApiIdempotentResponse
from api.problems import Problem
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
MAX_KEY = 255
KEPT_HEADERS = ("Location", "ETag")


def _request_hash() -> str:
    return hashlib.sha256(
        request.method.encode() + request.full_path.encode() + request.get_data()
    ).hexdigest()


def _stored(api_client_id: int, key: str) -> ApiIdempotentResponse | None:
    return db.session.scalar(
        scoped_select(ApiIdempotentResponse).where(
            ApiIdempotentResponse.api_client_id == api_client_id,
            ApiIdempotentResponse.key == key,
            ApiIdempotentResponse.created_at > utcnow() - KEPT,
        )
    )


def _replay(row: ApiIdempotentResponse) -> Response:
    response = Response(row.body, status=row.status_code, content_type=row.content_type)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorator of an API POST (below the token check). The view adds its changes to
    the session without committing; this commits them with the stored response."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                db.session.commit()
            return response
        key = key.strip()
        if not key or len(key) > MAX_KEY or not key.isprintable():
            raise Problem(
                400, "invalid_idempotency_key", "Use a key of 1 to 255 printable characters.", param=HEADER
            )
        fingerprint = _request_hash()
        row = _stored(g.api_client_id, key)
        if row is not None:
            if row.request_hash != fingerprint:
                raise Problem(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with other parameters.",
                    param=HEADER,
                )
            return _replay(row)
        response = make_response(view(*args, **kwargs))
        if response.status_code >= 500:
            return response
        if response.status_code >= 400:
            db.session.rollback()
        _forget_expired(g.api_client_id, key)
        db.session.add(
            ApiIdempotentResponse(
                reseller_id=g.reseller.id,
                api_client_id=g.api_client_id,
                key=key,
                request_hash=fingerprint,
                status_code=response.status_code,
                content_type=response.content_type or "application/json",
                body=response.get_data(as_text=True),
                headers={h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
            )
        )
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Problem(
                409, "idempotency_key_in_use", "A request with this key is in progress.", param=HEADER
            ) from None
        return response

    return wrapped


def _forget_expired(api_client_id: int, key: str) -> None:
    """The client's responses past their 24 hours (this key's among them) are forgotten."""
    db.session.execute(
        delete(ApiIdempotentResponse).where(
            ApiIdempotentResponse.reseller_id == g.reseller.id,
            ApiIdempotentResponse.api_client_id == api_client_id,
            (ApiIdempotentResponse.key == key) | (ApiIdempotentResponse.created_at <= utcnow() - KEPT),
        )
    )

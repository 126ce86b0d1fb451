"""``Idempotency-Key`` on POST: the response is kept 24 hours per API client (a view may
keep its answer less: :func:`keep_for`). The same key with the same body replays it
(``Idempotent-Replayed: true``); the same key with another body is a 422
``idempotency_key_reused``. The response is stored in the transaction of the work
itself, so either both happen or neither. While a first use of a key is under way, a
second one is a 409 ``idempotency_key_in_use`` with ``Retry-After`` (on PostgreSQL a
transaction-level advisory lock on the key, taken before the stored answer is looked
up; SQLite runs one writer at a time). Expired answers are removed by the periodic
``api.tasks.forget_expired_responses``, and lazily when their key comes back."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import g, make_response, request
from flask_babel import gettext as _
from sqlalchemy import delete, select, text
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
# How long the second of two concurrent first uses of a key is told to wait.
RETRY_AFTER_SECONDS = 1
_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")


def keep_for(lifetime: timedelta) -> None:
    """Called by an idempotent view: keep this answer only ``lifetime`` (at most 24 hours),
    for what is useless to replay sooner (a login link dies after 60 seconds)."""
    g.idempotency_kept = min(lifetime, KEPT)


def _in_use() -> Problem:
    return Problem(
        409,
        "idempotency_key_in_use",
        _("A request with this key is in progress; try again shortly."),
        param=HEADER,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _claim(api_client_id: int, key: str) -> bool:
    """Hold the key for this transaction (PostgreSQL); ``False``: another request holds it."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    digest = hashlib.sha256(f"idempotency:{api_client_id}:{key}".encode()).digest()
    return bool(db.session.scalar(_LOCK, {"key": int.from_bytes(digest[:8], "big", signed=True)}))


def _request_hash() -> str:
    """The request's method, path, query and body; a multipart body by its fields and its
    files' names and contents (its boundary changes with every sending)."""
    digest = hashlib.sha256(request.method.encode() + request.full_path.encode())
    if request.mimetype != "multipart/form-data":
        digest.update(request.get_data())
        return digest.hexdigest()
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"\0field\0{name}\0{value}".encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(f"\0file\0{name}\0{upload.filename}\0".encode())
        start = upload.stream.tell()
        while chunk := upload.stream.read(64 * 1024):
            digest.update(chunk)
        upload.stream.seek(start)
    return digest.hexdigest()


def _stored(api_client_id: int, key: str) -> ApiIdempotentResponse | None:
    now = utcnow()
    row = db.session.scalar(
        scoped_select(ApiIdempotentResponse).where(
            ApiIdempotentResponse.api_client_id == api_client_id,
            ApiIdempotentResponse.key == key,
            ApiIdempotentResponse.created_at > now - KEPT,
        )
    )
    if row is None or row.created_at + timedelta(seconds=row.kept_seconds) <= now:
        return None
    return row


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
                400,
                "invalid_idempotency_key",
                _("Use a key of 1 to 255 printable characters."),
                param=HEADER,
            )
        fingerprint = _request_hash()
        if not _claim(g.api_client_id, key):
            raise _in_use()
        row = _stored(g.api_client_id, key)
        if row is not None:
            if row.request_hash != fingerprint:
                raise Problem(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used with other parameters."),
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
                kept_seconds=int(g.get("idempotency_kept", KEPT).total_seconds()),
            )
        )
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise _in_use() from None
        return response

    return wrapped


def forget_expired() -> int:
    """Every stored answer past its lifetime, of every API client (the periodic job's
    work, under its tenancy bypass); how many."""
    now, removed = utcnow(), 0
    lifetimes = db.session.scalars(select(ApiIdempotentResponse.kept_seconds).distinct()).all()
    for seconds in sorted({*lifetimes, int(KEPT.total_seconds())}):
        removed += db.session.execute(
            delete(ApiIdempotentResponse).where(
                ApiIdempotentResponse.kept_seconds == seconds,
                ApiIdempotentResponse.created_at <= now - timedelta(seconds=seconds),
            )
        ).rowcount
    # A lifetime above 24 hours is never written; were one there, 24 hours still ends it.
    removed += db.session.execute(
        delete(ApiIdempotentResponse).where(ApiIdempotentResponse.created_at <= now - KEPT)
    ).rowcount
    return removed


def _forget_expired(api_client_id: int, key: str) -> None:
    """This key's old answer and the client's responses past their 24 hours are forgotten."""
    db.session.execute(
        delete(ApiIdempotentResponse).where(
            ApiIdempotentResponse.reseller_id == g.reseller.id,
            ApiIdempotentResponse.api_client_id == api_client_id,
            (ApiIdempotentResponse.key == key) | (ApiIdempotentResponse.created_at <= utcnow() - KEPT),
        )
    )

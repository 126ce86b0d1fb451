"""The API's HTTP conventions, one place each: no cookies, the rate limit per API client
with its ``RateLimit-*`` headers, ETags on single resources, ISO 8601 dates, money as
integer cents with its currency."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, g, request
from flask_babel import gettext as _
from limits import parse

from api.problems import Problem, is_api_request, request_id
from core.extensions import limiter

CURRENCY = "BRL"
DEFAULT_RATE_LIMIT = "600/minute"


class CookielessPaths:
    """WSGI middleware: the API and OAuth2 paths never see the browser's cookies, so a
    session cookie can never authenticate (or narrow) an API call."""

    def __init__(self, wsgi_app, prefixes: tuple[str, ...]):
        self.wsgi_app = wsgi_app
        self.prefixes = prefixes

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.prefixes):
            environ.pop("HTTP_COOKIE", None)
        return self.wsgi_app(environ, start_response)


def hit_rate_limit(api_client_id: int) -> None:
    """Count one request of the client; over its limit, a 429 problem. The window's
    figures go out as ``RateLimit-*`` headers on every answer (see :func:`add_headers`)."""
    if not limiter.enabled:  # RATELIMIT_ENABLED off (the whole app's limits are off)
        return
    item = parse(current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
    strategy = limiter.limiter
    allowed = strategy.hit(item, "api-client", str(api_client_id))
    reset_at, remaining = strategy.get_window_stats(item, "api-client", str(api_client_id))
    g.api_rate = {
        "RateLimit-Limit": str(item.amount),
        "RateLimit-Remaining": str(max(0, remaining)),
        "RateLimit-Reset": str(max(0, int(reset_at - time.time()))),
    }
    if not allowed:
        raise Problem(
            429,
            "rate_limited",
            _("Too many requests for this API client; wait for the window to reset."),
            headers={**g.api_rate, "Retry-After": g.api_rate["RateLimit-Reset"]},
        )


def add_headers(response):
    """after_request: on the API's paths, the rate figures and the request id."""
    if not is_api_request():
        return response
    for name, value in (g.get("api_rate") or {}).items():
        response.headers.setdefault(name, value)
    response.headers["X-Request-ID"] = request_id()
    return response


def conditional(response):
    """ETag of a single resource; ``If-None-Match`` with it answers 304."""
    response.add_etag()
    return response.make_conditional(request)


def iso(value) -> str | None:
    """A date or UTC time in ISO 8601 (times stored naive in UTC get their ``Z``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        text = value.replace(microsecond=0).isoformat()
        return text + "Z" if value.tzinfo is None else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def money(amount) -> dict | None:
    """An amount as integer cents with its currency."""
    if amount is None:
        return None
    return {"amount": int((Decimal(str(amount)) * 100).to_integral_value()), "currency": CURRENCY}


def cents(amount_cents, currency: str | None = None) -> dict | None:
    """An amount already in integer cents, with its currency."""
    if amount_cents is None:
        return None
    return {"amount": int(amount_cents), "currency": currency or CURRENCY}

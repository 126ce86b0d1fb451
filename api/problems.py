"""Errors of the API and the OAuth2 endpoints as RFC 9457 problem details
(``application/problem+json``): ``type``, ``title``, ``status``, ``detail``, a stable
``code``, the ``param`` at fault and the request's ``request_id``."""

from __future__ import annotations

import re
import uuid

from flask import current_app, g, has_request_context, json, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

PROBLEM_TYPE = "application/problem+json"
# The endpoints whose paths answer errors as problems (never the HTML error pages).
API_ENDPOINTS = ("api_v1.", "api_oauth.", "api_docs.", "api-docs.")
HANDLED = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500)
# The stable code of each status when nothing more precise is known.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    429: "rate_limited",
    500: "internal_error",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Titles and default details in the request's language (English unless the request asks
# for Portuguese: core's locale selector for the API's paths).
TITLES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    406: _l("Not Acceptable"),
    409: _l("Conflict"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
}
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("The request is not authorized."),
    403: _l("The request is not allowed."),
    404: _l("Nothing of yours is at this address."),
    405: _l("This method is not allowed here."),
    406: _l("This API answers JSON only."),
    409: _l("The request conflicts with the object's state."),
    413: _l("The request's body is too large."),
    415: _l("This type of body is not accepted here."),
    422: _l("A parameter is not valid."),
    429: _l("Too many requests; wait and try again."),
    500: _l("Something went wrong."),
}
# marshmallow's fixed messages (the schemas' checks), in the request's language too.
SCHEMA_MESSAGES = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Unknown field.": _l("Unknown field."),
    "Field may not be null.": _l("Field may not be null."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid mapping type."),
    "Invalid input type.": _l("Invalid input type."),
}


class Problem(Exception):
    """Raised by the API's views and rules: answered as a problem document."""

    def __init__(self, status: int, code: str, detail: str = "", *, param: str | None = None, headers=None):
        super().__init__(detail or code)
        self.status, self.code, self.detail, self.param = status, code, detail, param
        self.headers = dict(headers or {})


def api_prefixes(app) -> tuple[str, ...]:
    """The first path segment of every API endpoint (``/api/``, ``/oauth/``...): unknown
    paths under them are the API's too."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(API_ENDPOINTS):
            found.add("/" + rule.rule.strip("/").split("/", 1)[0] + "/")
    return tuple(sorted(found))


def is_api_request() -> bool:
    if not has_request_context():
        return False
    return request.path.startswith(current_app.extensions["api_prefixes"])


def request_id() -> str:
    """The caller's ``X-Request-ID`` when it is a plain token, else one made here."""
    if "api_request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.api_request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.api_request_id


def problem_response(
    status: int, code: str, detail: str = "", *, param: str | None = None, headers=None, **extra
) -> Response:
    title = TITLES.get(status) or HTTP_STATUS_CODES.get(status, "Error")
    body = {
        "type": f"urn:revenda:problem:{code}",
        "title": str(title),
        "status": status,
        "detail": str(detail or DETAILS.get(status) or title),
        "code": code,
        "param": param,
        "request_id": request_id(),
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_problem(exc: Problem) -> Response:
    return problem_response(exc.status, exc.code, exc.detail, param=exc.param, headers=exc.headers)


def _validation_details(exc: HTTPException) -> tuple[str | None, str]:
    """The first field and message of a schema's errors (webargs: location -> field -> messages)."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    for fields in messages.values():
        if isinstance(fields, dict):
            for name, errors in fields.items():
                text = errors[0] if isinstance(errors, list) and errors else str(errors)
                if isinstance(text, dict):
                    text = json.dumps(text)
                return str(name), str(SCHEMA_MESSAGES.get(str(text), text))
    return None, _own_description(exc)


def _own_description(exc: HTTPException) -> str:
    """The exception's description, unless it is werkzeug's stock English text: then ours
    for its status (``DETAILS``), in the request's language."""
    stock = type(exc).description
    if exc.description and exc.description != stock:
        return exc.description
    return str(DETAILS.get(exc.code or 500, exc.description or ""))


def from_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = STATUS_CODES.get(status, "error")
    param, detail = (None, _own_description(exc))
    if status == 422:
        param, detail = _validation_details(exc)
    headers = {}
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 500:
        detail = str(DETAILS[500])
    return problem_response(status, code, detail, param=param, headers=headers)


def install(app) -> None:
    """Answer errors under the API's paths as problems; elsewhere the handler that was
    there before (the HTML pages of core.views) answers as it did."""
    app.register_error_handler(Problem, from_problem)
    for status in HANDLED:
        # The handler of that status's own exception class (a subclass such as the CSRF
        # refusal keeps its own handler, registered under the same status).
        previous = app.error_handler_spec[None].get(status, {})
        fallback = previous.get(default_exceptions[status])

        def handler(exc, fallback=fallback):
            if is_api_request():
                if not isinstance(exc, HTTPException):
                    return from_http_exception(InternalServerError())
                return from_http_exception(exc)
            return fallback(exc) if fallback is not None else exc

        app.register_error_handler(status, handler)


KEPT_HEADERS = (
    "WWW-Authenticate",
    "Allow",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


def normalise(response):
    """after_request: an error answered under the API's paths by code that is not ours
    (Authlib's OAuth2 errors, the NUL-byte check) becomes a problem too, keeping its
    OAuth2 ``error`` and ``error_description`` members and its headers."""
    if response.status_code < 400 or response.mimetype == PROBLEM_TYPE or not is_api_request():
        return response
    body = response.get_json(silent=True) if response.is_json else None
    body = body if isinstance(body, dict) else {}
    oauth_error = body.get("error") if isinstance(body.get("error"), str) else None
    extra = {}
    if oauth_error and (request.endpoint or "").startswith("api_oauth."):
        extra = {"error": oauth_error, "error_description": str(body.get("error_description") or "")}
    code = oauth_error or STATUS_CODES.get(response.status_code, "error")
    detail = str(body.get("error_description") or body.get("error") or "")
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    return problem_response(response.status_code, code, detail, headers=headers, **extra)

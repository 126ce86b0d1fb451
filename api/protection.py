"""Who calls the API: Authlib's resource protector with a Bearer token validator.

A request under ``/api/v1`` carries a token of the host's reseller with the route's
scope, else a problem (401 ``invalid_token`` / 403 ``insufficient_scope``). The request
then runs in that reseller's tenancy scope with no client narrowing (the cookies never
reach these paths: ``conventions.CookielessPaths``), and names its API client for the
audit log: ``g.api_client_id`` and ``g.actor_label``.
"""

from __future__ import annotations

from functools import wraps

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import g, request
from flask_babel import gettext as _

from api import conventions, credentials, oauth
from api.problems import Problem
from core.extensions import db
from core.tenancy import set_client_scope

REALM = "api"


class TokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return oauth.query_token(token_string)


protector = ResourceProtector()
protector.register_token_validator(TokenValidator(realm=REALM))


def _refusal(error: OAuth2Error) -> Problem:
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    code = error.error or "invalid_token"
    if code == "missing_authorization":
        code = "invalid_token"
    # Ours, in the request's language (Authlib's descriptions are English only).
    detail = (
        {
            "invalid_token": _("The access token is missing, expired, revoked or unknown."),
            "insufficient_scope": _("The access token does not hold the scope this operation needs."),
        }.get(code)
        or error.description
        or _("The request is not authorized.")
    )
    return Problem(error.status_code, code, detail, headers=headers)


def authenticate(scope: str):
    """The token of this request, with ``scope``; sets the request's actor and limits."""
    try:
        token = protector.validate_request(scopes=[scope], request=FlaskJsonRequest(request))
    except OAuth2Error as error:
        raise _refusal(error) from None
    set_client_scope(None)
    g.actor_account_id = None
    g.subject_account_id = None
    g.api_client_id = token.api_client_id
    g.actor_label = token.api_client.name
    g.api_token = token
    conventions.hit_rate_limit(token.api_client_id)
    if credentials.mark_used(token.api_client_id, token.reseller_id):
        db.session.commit()
    return token


def holds_live_token() -> bool:
    """Whether the request carries a live token of the host's reseller (its scope is
    still checked by the view): ``core.uploads`` then lets its body hold attachments."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    token = oauth.query_token(value.strip())
    return token is not None and not token.is_expired() and not token.is_revoked()


def require_scope(scope: str):
    """Decorator of an API view: a valid token of this reseller holding ``scope``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            authenticate(scope)
            return view(*args, **kwargs)

        wrapped.api_scope = scope
        return wrapped

    return decorator

"""The OAuth2 endpoints, served by Authlib's authorization server (``api.oauth``):
``/oauth/token`` (client credentials), ``/oauth/revoke`` (RFC 7009),
``/oauth/introspect`` (RFC 7662) and the server's metadata (RFC 8414)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InsecureTransportError
from flask import current_app, jsonify, request

from api import oauth
from api.problems import problem_response
from api.views.blueprints import oauth_bp
from core import audit
from core.extensions import limiter

# Wrong credentials from one address: a few a minute (a program with the right secret
# never gets them; the secrets are 256 random bits, so this is about load, not guessing).
FAILED_TOKENS_PER_MINUTE = "20 per minute"


def _wrong_credentials(response) -> bool:
    return response.status_code == 401


def _server():
    return current_app.extensions["api_oauth_server"]


@oauth_bp.errorhandler(InsecureTransportError)
def _insecure(_exc):
    # OAuth 2 over plain HTTP (outside AUTHLIB_INSECURE_TRANSPORT): refused, never a 500.
    return problem_response(400, "insecure_transport", "OAuth 2 requires HTTPS.")


@oauth_bp.post("/oauth/token")
@limiter.limit(FAILED_TOKENS_PER_MINUTE, deduct_when=_wrong_credentials)
def token():
    response = _server().create_token_response()
    if _wrong_credentials(response):
        attempted = (request.authorization.username if request.authorization else None) or request.form.get(
            "client_id", ""
        )
        audit.refused("api.token_refused", details={"client_id": str(attempted)[:60]})
    return response


@oauth_bp.post("/oauth/revoke")
def revoke():
    return _server().create_endpoint_response(oauth.Revocation.ENDPOINT_NAME)


@oauth_bp.post("/oauth/introspect")
def introspect():
    return _server().create_endpoint_response(oauth.Introspection.ENDPOINT_NAME)


@oauth_bp.get("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(oauth.metadata())

"""The OAuth2 endpoints, served by Authlib's authorization server (``api.oauth``):
``/oauth/token`` (client credentials), ``/oauth/revoke`` (RFC 7009),
``/oauth/introspect`` (RFC 7662) and the server's metadata (RFC 8414)."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InsecureTransportError
from flask import current_app, jsonify

from api import oauth
from api.problems import problem_response
from api.views.blueprints import oauth_bp


def _server():
    return current_app.extensions["api_oauth_server"]


@oauth_bp.errorhandler(InsecureTransportError)
def _insecure(_exc):
    # OAuth 2 over plain HTTP (outside AUTHLIB_INSECURE_TRANSPORT): refused, never a 500.
    return problem_response(400, "insecure_transport", "OAuth 2 requires HTTPS.")


@oauth_bp.post("/oauth/token")
def token():
    return _server().create_token_response()


@oauth_bp.post("/oauth/revoke")
def revoke():
    return _server().create_endpoint_response(oauth.Revocation.ENDPOINT_NAME)


@oauth_bp.post("/oauth/introspect")
def introspect():
    return _server().create_endpoint_response(oauth.Introspection.ENDPOINT_NAME)


@oauth_bp.get("/.well-known/oauth-authorization-server")
def metadata():
    return jsonify(oauth.metadata())

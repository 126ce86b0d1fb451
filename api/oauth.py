"""The OAuth2 authorization server (Authlib's, for Flask): the client-credentials grant
at ``/oauth/token``, revocation (RFC 7009) and introspection (RFC 7662).

Clients are the reseller's API clients, found on the request's host only (a client of
another reseller is unknown here: ``invalid_client``). Tokens live an hour and are
stored as digests. A scope asked that is unknown or not granted to the client is
``invalid_scope`` (Authlib would silently drop one not granted); no scope asked: every
scope the client holds.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import request, url_for

from api import credentials, secrets
from api.models import ApiClient, ApiToken
from api.states import ApiScope, TokenTypeHint
from core.extensions import db
from core.tenancy import require_reseller, scoped_select
from core.timeutil import utcnow

TOKEN_LIFETIME = 3600  # seconds; Authlib's default for this grant is 10 days
GRANT_TYPE = "client_credentials"
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
SCOPES = tuple(s.value for s in ApiScope)


class OAuthClient:
    """An API client as Authlib sees it (its ClientMixin)."""

    def __init__(self, api_client: ApiClient):
        self.api_client = api_client
        self.id = api_client.id

    def get_client_id(self) -> str:
        return self.api_client.client_key

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return " ".join(self.api_client.scope_list())
        granted = set(self.api_client.scope_list())
        return " ".join(s for s in scope_to_list(scope) if s in granted)

    def check_redirect_uri(self, redirect_uri) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.matches(self.api_client, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def validate_requested_scope(self):
        """Unknown scopes (the server's check) and scopes the client does not hold are
        both ``invalid_scope``."""
        super().validate_requested_scope()
        scope = self.request.payload.scope
        if scope:
            granted = set(self.request.client.api_client.scope_list())
            if not set(scope_to_list(scope)) <= granted:
                raise InvalidScopeError(description="A scope asked is not granted to this client.")


def query_token(token_string: str | None) -> ApiToken | None:
    """The token of this digest, of the request's reseller only."""
    if not token_string:
        return None
    return db.session.scalar(
        scoped_select(ApiToken).where(ApiToken.token_hash == secrets.digest(token_string))
    )


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = (TokenTypeHint.ACCESS_TOKEN.value,)

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string)

    def revoke_token(self, token, request):
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        db.session.commit()


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = (TokenTypeHint.ACCESS_TOKEN.value,)

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string)

    def check_permission(self, token, client, request):
        """A client introspects its own tokens only (another's is ``active: false``)."""
        return token.api_client_id == client.id

    def introspect_token(self, token):
        # Authlib adds "active": true to what this returns.
        return {
            "client_id": token.api_client.client_key,
            "token_type": "Bearer",
            "scope": token.scope,
            "iat": int(token.issued_at.timestamp()),
            "exp": int(token.expires_at.timestamp()),
        }


def query_client(client_id: str | None) -> OAuthClient | None:
    if not client_id:
        return None
    api_client = db.session.scalar(scoped_select(ApiClient).where(ApiClient.client_key == client_id))
    return OAuthClient(api_client) if api_client is not None else None


def save_token(token: dict, request) -> None:
    client = request.client
    db.session.add(
        ApiToken(
            reseller_id=client.api_client.reseller_id,
            api_client_id=client.id,
            token_hash=secrets.digest(token["access_token"]),
            scope=token.get("scope") or "",
            expires_in=int(token["expires_in"]),
        )
    )
    credentials.mark_used(client.id, client.api_client.reseller_id)
    db.session.commit()


def _expires_in(client, grant_type) -> int:
    return TOKEN_LIFETIME


def make_server(app) -> AuthorizationServer:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {GRANT_TYPE: TOKEN_LIFETIME})
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    return server


def metadata() -> dict:
    """The server's metadata (RFC 8414), for this host's reseller."""
    require_reseller()
    return {
        "issuer": request.url_root.rstrip("/"),
        "token_endpoint": url_for("api_oauth.token", _external=True),
        "revocation_endpoint": url_for("api_oauth.revoke", _external=True),
        "introspection_endpoint": url_for("api_oauth.introspect", _external=True),
        "grant_types_supported": [GRANT_TYPE],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "scopes_supported": list(SCOPES),
        "response_types_supported": [],
    }


__all__ = ["OAuthClient", "make_server", "metadata", "query_token"]

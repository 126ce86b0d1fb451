"""The values the API package stores or names: the OAuth2 scopes an API client may hold."""

from __future__ import annotations

from enum import StrEnum


class ApiScope(StrEnum):
    """What a token may reach (``scopes_supported`` in the server's metadata)."""

    CLIENTS_READ = "clients:read"
    CLIENTS_WRITE = "clients:write"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    BILLING_READ = "billing:read"
    BILLING_WRITE = "billing:write"
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    AUDIT_READ = "audit:read"
    IMPERSONATE = "impersonate"


class TokenTypeHint(StrEnum):
    """The token type hints of revocation and introspection (only access tokens exist)."""

    ACCESS_TOKEN = "access_token"  # noqa: S105 - a token type's name, no secret

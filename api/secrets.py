"""Secrets and tokens of the API: made from 256 random bits, kept as SHA-256 digests,
compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets as random

from api.models import ApiClient

SECRET_BYTES = 32  # 256 bits


def digest(value: str) -> str:
    """The stored form of a secret or token (a random 256-bit value needs no slow hash)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return random.token_urlsafe(SECRET_BYTES)


def new_client_key() -> str:
    """The public ``client_id`` of a new API client."""
    return "cli_" + random.token_urlsafe(18)


def matches(api_client: ApiClient, secret: str | None) -> bool:
    """Whether ``secret`` is one of the client's active secrets (every one compared,
    in constant time)."""
    if not secret:
        return False
    candidate = digest(secret)
    found = False
    for row in api_client.active_secrets():
        found |= hmac.compare_digest(row.secret_hash, candidate)
    return found

"""Channel secrets sealed at rest: Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under ``WHATSAPP_ENCRYPTION_KEY`` (core.config)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class Unreadable(ValueError):
    """A sealed value this key cannot open (the key changed, or the value was altered)."""


class NoKey(ValueError):
    """The platform has no ``WHATSAPP_ENCRYPTION_KEY``: no secret can be sealed or read."""


def _fernet() -> Fernet:
    key = current_app.config.get("WHATSAPP_ENCRYPTION_KEY")
    if not key:
        raise NoKey("WHATSAPP_ENCRYPTION_KEY is not set")
    return Fernet(key.encode())


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable("the channel's secret cannot be read with this WHATSAPP_ENCRYPTION_KEY") from None

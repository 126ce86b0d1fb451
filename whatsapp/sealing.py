"""Channel secrets sealed at rest: Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under ``WHATSAPP_ENCRYPTION_KEY`` (core.config)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class Unreadable(ValueError):
    """A sealed value this key cannot open (the key changed, or the value was altered)."""


def _fernet() -> Fernet:
    return Fernet(current_app.config["WHATSAPP_ENCRYPTION_KEY"].encode())


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable("the channel's secret cannot be read with this WHATSAPP_ENCRYPTION_KEY") from None

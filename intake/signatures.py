"""The inbound mail webhook's signature: HMAC-SHA256 under ``MAIL_INBOUND_SECRET``.

The provider sends ``X-Mail-Timestamp: <unix seconds>`` and
``X-Mail-Signature: sha256=<hex>``, the HMAC of ``<timestamp>.`` followed by the raw
body. The timestamp is inside the signed bytes, so a captured request cannot be replayed
with a fresh timestamp; outside :data:`TOLERANCE_SECONDS` of our clock it is refused. A
replay inside the window stores a second copy, which processing marks ``duplicate``.

The HMAC is fed while the body streams in (:class:`BodySigner`), so checking it never
holds the whole message in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Mail-Signature"
TIMESTAMP_HEADER = "X-Mail-Timestamp"
_PREFIX = "sha256="


class BadSignature(ValueError):
    """The request is not signed by the holder of the secret (or too old); nothing is kept."""


def read_timestamp(value: str | None, *, now: float | None = None) -> int:
    """The header's timestamp when it is a whole number within the tolerance."""
    if not value or not value.strip().isdigit() or len(value.strip()) > 12:
        raise BadSignature("missing or malformed timestamp")
    stamp = int(value.strip())
    if abs((time.time() if now is None else now) - stamp) > TOLERANCE_SECONDS:
        raise BadSignature("timestamp outside the tolerance")
    return stamp


class BodySigner:
    """The expected signature of a body fed in chunks, for one timestamp."""

    def __init__(self, secret: str, timestamp: int) -> None:
        self._mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii"), hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        self._mac.update(chunk)

    def header(self) -> str:
        """The ``X-Mail-Signature`` value for what was fed."""
        return _PREFIX + self._mac.hexdigest()

    def check(self, header: str | None) -> None:
        """:class:`BadSignature` unless ``header`` is ``sha256=`` and the right digest."""
        given = (header or "").strip()
        if not given.startswith(_PREFIX):
            raise BadSignature("missing signature")
        # As bytes: compare_digest refuses a str that is not ASCII (a forged header may be).
        if not hmac.compare_digest(given.lower().encode("utf-8", "replace"), self.header().encode("ascii")):
            raise BadSignature("invalid signature")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender computes (the tests and a provider's adapter use it)."""
    signer = BodySigner(secret, timestamp)
    signer.update(body)
    return signer.header()

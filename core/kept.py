"""A reseller's set-up as pages read it on every request (its plans, its desks, its
ticket statuses), kept in the process per the reseller's ``setup_token``.

Triggers on those tables give the reseller a new random token at every write (migration
0037), and every request has already read the reseller's row (``core.tenancy``), so a
value kept for the token the request read is what the database holds in the request's
own snapshot: no round trip, and never an old value. Keep only plain rows (tuples), never
ORM objects (they belong to one session), and only what a read in that reseller's own
scope gave (the key carries the reseller).

A request that writes its reseller's set-up and then reads it again would meet the value
kept for the token it started with: the pages that write redirect instead.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, has_request_context

_KEPT: dict[tuple[str, int, str], tuple] = {}
_MAX_KEPT = 1024


def request_token(reseller_id: int) -> str | None:
    """The set-up token the request read with its reseller (None: none to trust)."""
    if not has_request_context():
        return None
    reseller = g.get("reseller")
    if reseller is None or reseller.id != reseller_id:
        return None
    return reseller.setup_token


def kept(name: str, reseller_id: int, read: Callable[[], tuple]) -> tuple:
    """``read()`` (a tuple of rows) as kept for the reseller's current token, read and
    kept when missing; read every time when the request gives no token."""
    token = request_token(reseller_id)
    if token is None:
        return read()
    key = (name, reseller_id, token)
    value = _KEPT.get(key)
    if value is None:
        value = read()
        if len(_KEPT) >= _MAX_KEPT:
            _KEPT.clear()
        _KEPT[key] = value
    return value

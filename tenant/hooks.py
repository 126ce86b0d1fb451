"""What packages above tenant add to a client's life, registered at start-up (their
``init_app``): tenant never names them.

- *open work*: a count of the client's unfinished work (the desk package: open and
  pending-review tickets). A client with open work cannot be inactivated (seed 000).
- *client created*: called in the transaction that creates a client, after its row
  exists (the desk package links it to the desks that take every new client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_open_work: list[Callable[[Any], int]] = []
_client_created: list[Callable[[Any], None]] = []


def register_open_work(count: Callable[[Any], int]) -> None:
    """``count(client) -> int``: how many of the client's items are unfinished."""
    if count not in _open_work:
        _open_work.append(count)


def register_client_created(callback: Callable[[Any], None]) -> None:
    """``callback(client)``: run when a client is created, in its transaction."""
    if callback not in _client_created:
        _client_created.append(callback)


def open_work(client) -> int:
    return sum(count(client) for count in _open_work)


def client_created(client) -> None:
    for callback in _client_created:
        callback(client)

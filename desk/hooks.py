"""What packages above desk add to a ticket's page, registered at start-up (their
``init_app``): desk never names them.

- *entry sources*: where a timeline entry came from, as a link for the staff (the intake
  package: the original e-mail a reply or a ticket was made from, downloadable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_entry_sources: list[Callable[[Any], dict[int, str]]] = []


def register_entry_sources(sources: Callable[[Any], dict[int, str]]) -> None:
    """``sources(ticket) -> {entry_id: url}``: a link to each entry's source."""
    if sources not in _entry_sources:
        _entry_sources.append(sources)


def entry_sources(ticket) -> dict[int, str]:
    found: dict[int, str] = {}
    for sources in _entry_sources:
        found.update(sources(ticket))
    return found

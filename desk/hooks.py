"""What packages above desk add to a ticket's page, registered at start-up (their
``init_app``): desk never names them.

- *entry sources*: where a timeline entry came from, as a link for the staff (the intake
  package: the original e-mail a reply or a ticket was made from, downloadable).
- *queue links*: pages next to the ticket queue, linked from its header (the intake
  package: the unknown senders queue).
- *the client's ticket page*: where a client user reads a ticket (the portal package),
  the link of every ticket e-mail to a client user.
- *client pages*: other portal pages desk e-mails link to, by name (the portal package:
  ``"rating"``, the page of an e-mailed rating link; ``"approvals"``, the approvals
  waiting for a client user).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_entry_sources: list[Callable[[Any], dict[int, str]]] = []
_queue_links: list[tuple[Any, str]] = []
_client_ticket_page: list[str] = []
_client_pages: dict[str, str] = {}


def register_entry_sources(sources: Callable[[Any], dict[int, str]]) -> None:
    """``sources(ticket) -> {entry_id: url}``: a link to each entry's source."""
    if sources not in _entry_sources:
        _entry_sources.append(sources)


def entry_sources(ticket) -> dict[int, str]:
    found: dict[int, str] = {}
    for sources in _entry_sources:
        found.update(sources(ticket))
    return found


def register_queue_link(label, endpoint: str) -> None:
    """A link (``label``, a lazy string; ``endpoint``, a page) in the queue's header."""
    if (label, endpoint) not in _queue_links:
        _queue_links.append((label, endpoint))


def queue_links() -> list[tuple[Any, str]]:
    return list(_queue_links)


def register_client_ticket_page(endpoint: str) -> None:
    """``endpoint`` (taking ``ticket_id``) shows a ticket to a user of its client."""
    _client_ticket_page[:] = [endpoint]


def client_ticket_page() -> str | None:
    return _client_ticket_page[0] if _client_ticket_page else None


def register_client_page(name: str, endpoint: str) -> None:
    """The endpoint of the client's page ``name`` (e-mails link to it)."""
    _client_pages[name] = endpoint


def client_page(name: str) -> str | None:
    return _client_pages.get(name)

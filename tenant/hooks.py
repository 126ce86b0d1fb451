"""What packages above tenant add to a client's life, registered at start-up (their
``init_app``): tenant never names them.

- *open work*: a count of the client's unfinished work (the desk package: open and
  pending-review tickets). A client with open work cannot be inactivated (seed 000).
- *client created*: called in the transaction that creates a client, after its row
  exists (the desk package links it to the desks that take every new client).
- *workspace gates*: asked by the workspace guard on every workspace request of a client
  user, before anything else there; a gate may send the request to its own pages first
  (the portal package: terms of use not yet accepted). A gate's pages stay open while
  it waits.
- *workspace links*: pages of a package above in the workspace's navigation, each shown
  to the users holding its permission (the portal package: dashboard, tickets,
  approvals, reports, knowledge base, under one "Portal" menu).
- *message sent*: called in the transaction that stores our message to a contact (the
  whatsapp package: queue its delivery through the client's WhatsApp channel).
- *conversation parts*: templates the conversation page includes under its form (the
  whatsapp package: a file, the approved templates of the client's channel).
- *channel pages*: the settings pages of other channels, linked from the inbound
  channel's card on the teams page and in the workspace's menu, for the users who
  manage the inbox (the whatsapp package: its settings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_open_work: list[Callable[[Any], int]] = []
_client_created: list[Callable[[Any], None]] = []
_workspace_gates: list[Callable[[], Any]] = []
_gate_pages: set[str] = set()
_workspace_links: list[WorkspaceLink] = []
_message_sent: list[Callable[[Any], None]] = []
_conversation_parts: list[str] = []
_channel_pages: list[WorkspaceLink] = []


@dataclass(frozen=True)
class WorkspaceLink:
    """A page in the workspace's navigation: its ``endpoint``, what it says (``label``, a
    lazy string), its Bootstrap icon, the permission a user needs to see it, and the
    endpoint prefix that marks it active."""

    endpoint: str
    label: Any
    icon: str
    permission: str
    active_prefix: str


def register_workspace_link(link: WorkspaceLink) -> None:
    if link not in _workspace_links:
        _workspace_links.append(link)


def workspace_links() -> list[WorkspaceLink]:
    return list(_workspace_links)


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


def register_workspace_gate(gate: Callable[[], Any], pages: tuple[str, ...] = ()) -> None:
    """``gate() -> response | None``: run by the workspace guard once the request's client
    is known; a response (a redirect to the gate's page) is answered instead of the page
    asked for. ``pages``: the endpoints of the gate's own pages, which it never closes."""
    if gate not in _workspace_gates:
        _workspace_gates.append(gate)
    _gate_pages.update(pages)


def is_gate_page(endpoint: str | None) -> bool:
    return endpoint in _gate_pages


def workspace_gate() -> Any:
    """The first gate's answer that closes this request, or ``None``."""
    for gate in _workspace_gates:
        answer = gate()
        if answer is not None:
            return answer
    return None


def register_message_sent(callback: Callable[[Any], None]) -> None:
    """``callback(message)``: run when our message to a contact is stored, in its
    transaction (after its row exists)."""
    if callback not in _message_sent:
        _message_sent.append(callback)


def message_sent(message) -> None:
    for callback in _message_sent:
        callback(message)


def register_conversation_part(template: str) -> None:
    """A template the conversation page includes under its form (with the page's context)."""
    if template not in _conversation_parts:
        _conversation_parts.append(template)


def conversation_parts() -> list[str]:
    return list(_conversation_parts)


def register_channel_page(link: WorkspaceLink) -> None:
    """A channel's settings page, linked for users who manage the inbox
    (``tenant.inbox.can_manage_inbox``, the rule its page applies; ``permission`` is not
    read): on the teams page's channel card and in the workspace's menu."""
    if link not in _channel_pages:
        _channel_pages.append(link)


def channel_pages() -> list[WorkspaceLink]:
    return list(_channel_pages)

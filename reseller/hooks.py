"""What packages above reseller add to the staff panel, registered at start-up (their
``init_app``): reseller never names them.

- *panel links*: pages of a package above in the panel's "Administration" menu, each
  shown to the staff holding its permission (the api package: API clients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PanelLink:
    """A page in the panel's "Administration" menu: its ``endpoint``, what it says
    (``label``, a lazy string), its Bootstrap icon, the permission staff need to see it,
    and the endpoint prefix that marks it active."""

    endpoint: str
    label: Any
    icon: str
    permission: str
    active_prefix: str


_panel_links: list[PanelLink] = []


def register_panel_link(link: PanelLink) -> None:
    if link not in _panel_links:
        _panel_links.append(link)


def panel_links() -> tuple[PanelLink, ...]:
    return tuple(_panel_links)

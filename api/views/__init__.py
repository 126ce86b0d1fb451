"""The api package's pages and endpoints; each module registers its routes on the
blueprints of ``views/blueprints.py``."""

from api.views import (
    audit,
    billing,
    clients,
    docs,
    lifecycle,
    login_links,
    oauth,
    panel,
    ticket_actions,
    tickets,
    users,
)
from api.views.blueprints import OpenApi, docs_bp, oauth_bp, panel_bp, spec_kwargs, v1

__all__ = [
    "OpenApi",
    "audit",
    "billing",
    "clients",
    "docs",
    "docs_bp",
    "lifecycle",
    "login_links",
    "oauth",
    "oauth_bp",
    "panel",
    "panel_bp",
    "spec_kwargs",
    "ticket_actions",
    "tickets",
    "users",
    "v1",
]

"""The tenant package's pages, one module per page group, each imported here.

The blueprints are defined in :mod:`tenant.views.blueprints`; importing a module below
registers its routes on them.
"""

from tenant.views import contacts, inbound, inbox, invitations, live, message_media, teams, users
from tenant.views.blueprints import bp, inbound_bp, invitations_bp

__all__ = [
    "bp",
    "contacts",
    "inbound",
    "inbound_bp",
    "inbox",
    "invitations",
    "invitations_bp",
    "live",
    "message_media",
    "teams",
    "users",
]

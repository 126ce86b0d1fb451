"""The tenant package's pages, one module per page group, each imported here.

The blueprints are defined in :mod:`tenant.views.blueprints`; importing a module below
registers its routes on them.
"""

from tenant.directory import ensure_channel
from tenant.views import contacts, inbound, inbox, invitations, teams, users
from tenant.views.blueprints import bp, inbound_bp, invitations_bp
from tenant.workspace import workspace_guard

# ``ensure_channel`` and ``workspace_guard`` are re-exported for the callers that still
# import them from here (billing.workspace, reseller.demo): to be removed after the merge.
__all__ = [
    "bp",
    "contacts",
    "ensure_channel",
    "inbound",
    "inbound_bp",
    "inbox",
    "invitations",
    "invitations_bp",
    "teams",
    "users",
    "workspace_guard",
]

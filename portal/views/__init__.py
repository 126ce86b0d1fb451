"""The portal's pages, one module per page group, each imported here.

The blueprints are defined in :mod:`portal.views.blueprints`: ``portal`` (the client
user's pages in the workspace, ``/app/...``), ``portal_terms`` (the staff pages of the
terms, ``/reseller/terms``), ``portal_kb`` (the staff pages of the knowledge base,
``/reseller/kb``), ``portal_public`` (the public knowledge base, ``/kb``) and
``portal_rating`` (the page of an e-mailed rating link, ``/rate/<token>``); importing a
module below registers its routes on them.
"""

from portal.views import approvals, dashboard, kb, kb_admin, reports, review, terms, terms_admin, tickets
from portal.views.blueprints import WORKSPACE_LINKS, bp, kb_staff_bp, public_bp, rating_bp, staff_bp

__all__ = [
    "WORKSPACE_LINKS",
    "approvals",
    "bp",
    "dashboard",
    "kb",
    "kb_admin",
    "kb_staff_bp",
    "public_bp",
    "rating_bp",
    "reports",
    "review",
    "staff_bp",
    "terms",
    "terms_admin",
    "tickets",
]

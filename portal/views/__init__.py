"""The portal's pages, one module per page group, each imported here.

The blueprints are defined in :mod:`portal.views.blueprints`: ``portal`` (the client
user's pages in the workspace, ``/app/...``) and ``portal_terms`` (the staff pages of the
terms, ``/reseller/terms``); importing a module below registers its routes on them.
"""

from portal.views import terms, terms_admin
from portal.views.blueprints import bp, staff_bp

__all__ = ["bp", "staff_bp", "terms", "terms_admin"]

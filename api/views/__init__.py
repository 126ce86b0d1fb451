"""The api package's pages and endpoints; each module registers its routes on the
blueprints of ``views/blueprints.py``."""

from api.views import clients, docs, oauth, panel
from api.views.blueprints import docs_bp, oauth_bp, openapi, panel_bp, v1

__all__ = ["clients", "docs", "docs_bp", "oauth", "oauth_bp", "openapi", "panel", "panel_bp", "v1"]

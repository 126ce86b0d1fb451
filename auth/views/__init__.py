"""auth's pages, one module per page group; importing each registers its routes."""

from auth.views import (  # noqa: F401 - each module adds its routes to the blueprints
    account,
    codes,
    impersonation,
    login,
    passwords,
    second_factor,
    security,
    sessions,
    staff_invitation,
)
from auth.views.blueprints import account_bp, auth_bp

bp = auth_bp  # the name auth/__init__ registered before the split

__all__ = ["account_bp", "auth_bp", "bp"]

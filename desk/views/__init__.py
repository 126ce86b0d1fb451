"""The desk's staff pages: one module per page group. Importing this package registers
every route on its blueprint."""

from desk.views import ticket_page, tickets  # noqa: F401 - each module registers its routes
from desk.views.ticket_blueprint import tickets_bp

__all__ = ["tickets_bp"]

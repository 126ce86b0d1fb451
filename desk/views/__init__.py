"""The desk pages: desks (list, create, edit, archive) with their Clientes and Campos
tabs, the reseller's ticket statuses, SLA policies and business calendars; and the staff's
ticket queues and ticket pages. Importing this package registers every route on its
blueprint."""

from desk.views import (  # noqa: F401 - each module registers its routes
    approvals,
    clients,
    desks,
    fields,
    sla,
    statuses,
    ticket_page,
    tickets,
)
from desk.views.blueprint import bp
from desk.views.ticket_blueprint import tickets_bp

__all__ = ["bp", "tickets_bp"]

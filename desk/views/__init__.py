"""The desk pages: desks (list, create, edit, archive) with their Clientes and Campos
tabs, the reseller's ticket statuses, SLA policies and business calendars."""

from desk.views import clients, desks, fields, sla, statuses  # noqa: F401 - each module registers its routes on bp
from desk.views.blueprint import bp

__all__ = ["bp"]

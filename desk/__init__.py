"""Service desks and tickets: desks, their clients and staff, statuses, SLA policies and
calendars, custom fields, and the tickets with their timeline."""


def init_app(app) -> None:
    from core import jobs
    from desk import models, sla_models, ticket_models  # noqa: F401 - registers the tables
    from desk.sla_sweep import SWEEP_EVERY_SECONDS
    from desk.work import open_ticket_count
    from tenant import hooks

    # A client with open or pending-review tickets is not inactivated (seed 000).
    hooks.register_open_work(open_ticket_count)
    # Tickets whose SLA clock becomes expiring or breached: refreshed and notified.
    jobs.periodic("desk.sla_sweep.sweep_job", SWEEP_EVERY_SECONDS, bypass="sla-sweep")

"""Service desks and tickets: desks, their clients and staff, statuses, SLA policies and
calendars, custom fields, and the tickets with their timeline."""


def init_app(app) -> None:
    from desk import models, ticket_models  # noqa: F401 - registers the tables
    from desk.links import link_new_client
    from desk.work import open_ticket_count
    from tenant import hooks

    # A client with open or pending-review tickets is not inactivated (seed 000).
    hooks.register_open_work(open_ticket_count)
    # Desks that take "every client created later" link it at its creation (seed 001).
    hooks.register_client_created(link_new_client)

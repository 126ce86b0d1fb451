"""Service desks and tickets: desks, their clients and staff, statuses, SLA policies and
calendars, custom fields, and the tickets with their timeline."""


def init_app(app) -> None:
    from desk import models, ticket_models  # noqa: F401 - registers the tables
    from desk.views import tickets_bp
    from desk.work import open_ticket_count
    from tenant import hooks

    # A client with open or pending-review tickets is not inactivated (seed 000).
    hooks.register_open_work(open_ticket_count)
    # The staff's queues and ticket pages (/reseller/tickets...).
    app.register_blueprint(tickets_bp)

"""Service desks and tickets: desks, their clients and staff, statuses, SLA policies and
calendars, custom fields, and the tickets with their timeline."""


def init_app(app) -> None:
    from core import jobs
    from desk import models, review_models, sla_models, ticket_models, views  # noqa: F401 - models registers the tables
    from desk.links import link_new_client
    from desk.review import REVIEW_SWEEP_SECONDS
    from desk.sla_sweep import SWEEP_EVERY_SECONDS
    from desk.work import open_ticket_count
    from tenant import hooks

    app.register_blueprint(views.bp)
    # The staff's queues and ticket pages (/reseller/tickets...).
    app.register_blueprint(views.tickets_bp)
    # The staff panel's layout, until the package that draws the panel registers its own.
    app.jinja_env.globals.setdefault("staff_layout", "base.html")
    # A client with open or pending-review tickets is not inactivated (seed 000).
    hooks.register_open_work(open_ticket_count)
    # Desks that take "every client created later" link it at its creation (seed 001).
    hooks.register_client_created(link_new_client)
    # Tickets whose SLA clock becomes expiring or breached: refreshed and notified.
    # (The previous release registered desk.sla_sweep.sweep_job, an alias of it for one release.)
    jobs.periodic("desk.tasks.sweep_sla", SWEEP_EVERY_SECONDS, bypass="sla-sweep")
    # Resolutions the client did not review in time: accepted by themselves (issue 15).
    jobs.periodic("desk.tasks.accept_due_reviews", REVIEW_SWEEP_SECONDS, bypass="review-sweep")

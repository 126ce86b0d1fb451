"""Plans, subscriptions, payments, sessions and suspension."""


def init_app(app) -> None:
    from billing import cli, models, views  # noqa: F401 - models registers the tables
    from core import jobs

    views.init_app(app)
    cli.init_app(app)
    # Registered under their previous names (aliases of billing.tasks), which the tests
    # and the deterministic periodic job ids keep.
    # Inbox rows a lost job left behind (Redis was down, a worker died).
    jobs.periodic("billing.webhooks.sweep_job", 60, bypass="stripe-inbox")
    # Overdue invoices, automatic suspension, period roll-over.
    jobs.periodic("billing.deadlines.sweep_deadlines", 600, bypass="billing-deadlines")
    # The list's denormalised billing columns against their rows, once a day.
    jobs.periodic("billing.consistency.check_summaries", 86400, bypass="billing-consistency")

"""Tickets by e-mail (issue 14): the inbound mail inbox, its two doors (a signed
provider webhook and an SMTP listener), and the job that turns a stored message into a
ticket or a reply."""


def init_app(app) -> None:
    from core import jobs
    from intake import cli, models, views  # noqa: F401 - models registers the table

    views.init_app(app)
    cli.init_app(app)
    # Stored messages a lost job left behind (Redis was down, a worker died).
    jobs.periodic("intake.tasks.sweep_inbox", 60, bypass="mail-intake")
    # Messages that reached no reseller, past their retention (with their raw bytes).
    jobs.periodic("intake.tasks.expire_unrouted", 24 * 3600, bypass="mail-intake")

"""``flask --app wsgi worker``: an RQ worker with the application loaded once."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.jobs import QUEUES, ensure_periodic, get_redis, schedule_periodic

# RQ's housekeeping (abandoned jobs, restarting a scheduler process that died, and our
# periodic jobs) runs at most this often, between jobs; an idle worker wakes up for it.
# RQ's defaults are 10 minutes, and idle waits of worker_ttl - 15 = 405 s.
MAINTENANCE_SECONDS = 60


@click.command("worker")
@click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler (retries, periodic jobs).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(with_scheduler: bool, burst: bool, queues: tuple[str, ...]):
    """Process background jobs from Redis (REDIS_URL must be set)."""
    from rq import Worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker needed.")
    app = current_app._get_current_object()
    if with_scheduler:
        schedule_periodic(app)

    class AppWorker(Worker):
        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            if with_scheduler:
                ensure_periodic(app)  # Redis restarted empty: the sweeps come back here

    worker = AppWorker(
        list(queues or QUEUES),
        connection=get_redis(app),
        maintenance_interval=MAINTENANCE_SECONDS,
        worker_ttl=MAINTENANCE_SECONDS + 15,
    )
    worker.work(with_scheduler=with_scheduler, burst=burst)


def init_app(app) -> None:
    app.cli.add_command(worker_command)

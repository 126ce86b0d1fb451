"""``flask --app wsgi worker``: an RQ worker with the application loaded once."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core.jobs import QUEUES, get_redis, schedule_periodic


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
    if with_scheduler:
        schedule_periodic(current_app._get_current_object())
    worker = Worker(list(queues or QUEUES), connection=get_redis(current_app))
    worker.work(with_scheduler=with_scheduler, burst=burst)


def init_app(app) -> None:
    app.cli.add_command(worker_command)

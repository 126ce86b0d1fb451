"""``flask --app wsgi worker``: an RQ worker with the application loaded once."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import audit_chain
from core.jobs import QUEUES, ensure_periodic, get_redis, schedule_periodic

# RQ's housekeeping (abandoned jobs, restarting a scheduler process that died, and our
# periodic jobs) runs at most this often, between jobs; an idle worker wakes up for it.
# RQ's defaults are 10 minutes, and idle waits of worker_ttl - 15 = 405 s.
MAINTENANCE_SECONDS = 60
# RQ's work loop quits when Redis goes away in the middle of a job (an idle worker
# reconnects by itself): the worker starts its loop again after this pause.
RESTART_SECONDS = 1


@click.command("worker")
@click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler (retries, periodic jobs).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--no-fork",
    "no_fork",
    is_flag=True,
    help="Run each job in the worker's own process (RQ's SimpleWorker) instead of a fork: "
    "its connections and compiled queries stay warm. For the many short jobs of the mail queue.",
)
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(with_scheduler: bool, burst: bool, no_fork: bool, queues: tuple[str, ...]):
    """Process background jobs from Redis (REDIS_URL must be set)."""
    from rq import SimpleWorker, Worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker needed.")
    app = current_app._get_current_object()
    if with_scheduler:
        schedule_periodic(app)

    class AppWorker(SimpleWorker if no_fork else Worker):
        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            if with_scheduler:
                ensure_periodic(app)  # Redis restarted empty: the sweeps come back here

    worker = None
    while True:
        try:
            worker = AppWorker(
                list(queues or QUEUES),
                connection=get_redis(app),
                maintenance_interval=MAINTENANCE_SECONDS,
                worker_ttl=MAINTENANCE_SECONDS + 15,
            )
            worker.work(with_scheduler=with_scheduler, burst=burst)
        except (RedisConnectionError, RedisTimeoutError) as exc:  # Redis still down
            if burst:
                raise
            problem = f"Redis is unavailable ({exc})"
        else:
            if burst or _stop_requested(worker):  # done, or SIGTERM/SIGINT: a real stop
                return
            problem = "The worker's loop ended (Redis lost in the middle of a job?)"
        click.echo(f"{problem}: starting again in {RESTART_SECONDS} s", err=True)
        time.sleep(RESTART_SECONDS)
        if _stop_requested(worker):  # RQ's signal handlers outlive its loop
            return


def _stop_requested(worker) -> bool:
    """SIGTERM/SIGINT reached RQ: busy, it sets ``_stop_requested``; idle, it only notes
    when (``_shutdown_requested_date``) and leaves its loop, which is a stop too."""
    if worker is None:
        return False
    return bool(worker._stop_requested or getattr(worker, "_shutdown_requested_date", None))


audit_group = click.Group("audit", help="The audit log.")


@audit_group.command("verify")
@click.option("--reseller", "reseller_id", type=int, help="Only this reseller's chain (0: the platform's).")
@with_appcontext
def audit_verify_command(reseller_id: int | None):
    """Check the audit log's hash chains; exit 1 at the first broken link.

    Each chain is checked from its oldest remaining row, whose ``prev_digest`` is taken
    as the anchor (the retention purge deletes the oldest rows)."""
    total = 0
    for key in audit_chain.chains(reseller_id):
        verdict = audit_chain.verify(key)
        total += verdict.count
        if verdict.broken is not None:
            broken = verdict.broken
            click.echo(
                f"BROKEN reseller={broken.reseller_id} seq={broken.seq} "
                f"event={broken.event_id if broken.event_id is not None else '-'}: {broken.reason}"
            )
            raise SystemExit(1)
    click.echo(f"OK {total} events")


def init_app(app) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(audit_group)

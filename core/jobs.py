"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, in-process otherwise.

Jobs are queued with :func:`enqueue` and dispatched only after the surrounding
transaction commits (a rollback drops them; :func:`pending` lists them until then), so
a worker never looks for a row that is not there yet. Jobs take ids, never ORM objects,
and must be idempotent.

A job runs in the tenancy scope it was queued in (``core.scope``: the request's
reseller and client, or the named bypass of the sweep that queued it); periodic sweeps
declare the bypass they run under, and so does a job target whose work crosses
resellers whoever queued it (:func:`runs_under`).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Retry
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.extensions import db
from core.scope import Scope, current_scope, entered

log = logging.getLogger(__name__)

QUEUES = ("mail", "billing", "exports", "maintenance", "whatsapp")
_PENDING_KEY = "pending_jobs"


@dataclass(frozen=True)
class JobSpec:
    func: str
    args: tuple
    queue: str
    job_id: str | None = None
    timeout: int = 600
    retries: int = 3
    kwargs: dict = field(default_factory=dict)
    # Coalescing: while a job with this key is queued and not yet started, another
    # enqueue with the same key is dropped (the queued job will see its work too).
    unique_key: str | None = None
    # Run no earlier than this long after the commit (RQ's scheduler). Without Redis a
    # delayed job is not kept: its deadline must live in the database with a periodic
    # sweep that runs it when due (the sweep is the durable part; the job only saves time).
    delay: timedelta | None = None
    # The tenancy scope the job runs in (Scope.encode), captured when it is queued.
    scope: str | None = None


def enqueue(
    func: str,
    *args,
    queue: str,
    job_id: str | None = None,
    timeout: int = 600,
    retries: int = 3,
    unique_key: str | None = None,
    delay: timedelta | None = None,
) -> None:
    """Run ``func`` (a dotted path) with ``args`` once the current transaction commits.

    With ``delay``, no earlier than that long after the commit (see :class:`JobSpec`).

    With ``unique_key``, the job is queued only if no job with that key is waiting;
    the job must call :func:`release_unique` before it reads its work, so anything
    committed after that point queues a new one.
    """
    spec = _spec(func, args, queue, job_id, timeout, retries, unique_key=unique_key, delay=delay)
    session = db.session()
    if not session.in_transaction():
        # Open the transaction now, so its rollback (not only its commit) is seen.
        session.begin()
    session.info.setdefault(_PENDING_KEY, []).append(spec)


def enqueue_committed(
    func: str, *args, queue: str, retries: int = 3, unique_key: str | None = None, timeout: int = 600
) -> None:
    """Queue ``func`` now, for work that is already durable (written outside a
    transaction): there is no commit to wait for."""
    spec = _spec(func, args, queue, None, timeout, retries, unique_key=unique_key)
    dispatch(current_app._get_current_object(), spec)


def _spec(func: str, args: tuple, queue: str, *options, **named) -> JobSpec:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    return JobSpec(func, tuple(args), queue, *options, **named, scope=current_scope().encode())


def pending(session: Session, func: str) -> list[JobSpec]:  # queued at the commit
    return [spec for spec in session.info.get(_PENDING_KEY, ()) if spec.func == func]


# Jobs this process runs itself after the commit that queued them instead of sending them
# to Redis (core.held_jobs.run_here): (their function paths, the jobs held so far).
HELD: ContextVar[tuple[tuple[str, ...], list[JobSpec]]] = ContextVar("held_jobs", default=((), []))


def _after_commit(session: Session) -> None:
    specs = session.info.pop(_PENDING_KEY, None)
    if not specs or not has_app_context():
        return
    app, (here, held) = current_app._get_current_object(), HELD.get()
    for spec in specs:
        if spec.func in here:
            held.append(spec)
        else:
            dispatch(app, spec)


def _after_rollback(session: Session, previous_transaction) -> None:
    # A rolled-back transaction never happened: its jobs must not run either.
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


def dispatch(app: Flask, spec: JobSpec) -> None:
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        # retries=0: a job that schedules its own next try (RQ's Retry refuses max=0).
        retry = Retry(max=spec.retries, interval=[10, 30, 60][: spec.retries] or 10) if spec.retries else None
        try:
            if spec.unique_key:
                if _seen_waiting_recently(app, spec.unique_key):
                    return  # a job that has not released its flag yet will see this work
                waiting = not get_redis(app).set(_unique_flag(spec.unique_key), "1", nx=True, ex=UNIQUE_TTL)
                _note_waiting(app, spec.unique_key)
                if waiting:
                    return  # one is already waiting
            options = dict(
                job_id=spec.job_id,
                job_timeout=spec.timeout,
                retry=retry,
                tenancy_scope=spec.scope,
            )
            queue = get_queue(app, spec.queue)
            if spec.delay:
                queue.enqueue_in(spec.delay, "core.jobs.execute", spec.func, *spec.args, **options)
            else:
                queue.enqueue("core.jobs.execute", spec.func, *spec.args, **options)
        except (RedisConnectionError, RedisTimeoutError):
            # The transaction is already committed: failing the request now would not
            # undo it. Work with a durable trace (the Stripe inbox) is swept up later.
            log.error("Redis unreachable: job %s(%s) was not queued", spec.func, spec.args, exc_info=True)
        return
    if spec.delay:
        log.info("no Redis: delayed job %s(%s) is left to its periodic sweep", spec.func, spec.args)
        return
    if app.config.get("INPROCESS_JOBS") == "sync":
        # Run in a thread of its own (own app context and session) and wait for it,
        # so the caller's finished transaction is not reused.
        worker = threading.Thread(target=_run_in_app, args=(app, spec))
        worker.start()
        worker.join()
        return
    _executor(app).submit(_run_in_app, app, spec)


UNIQUE_TTL = 120  # a lost flag (Redis failed between SET and enqueue) expires by itself


def _unique_flag(key: str) -> str:
    return f"jobs:waiting:{key}"


# A process that saw a coalesced job waiting (its flag set, by itself or another) does
# not ask Redis again for this long: under a burst that saves a round trip per request.
# Safe because the job released its flag no earlier than that moment and makes a last
# pass over its work this long after the release (see release_unique).
UNIQUE_LOCAL_WINDOW = 0.2
_WAITING_SEEN = "jobs.waiting_seen"


def _waiting_seen(app: Flask) -> dict[str, float]:
    # Kept on the application, not the module: it describes that app's Redis, and a
    # new app (or a test that flushed Redis, see forget_waiting) starts without it.
    return app.extensions.setdefault(_WAITING_SEEN, {})


def _seen_waiting_recently(app: Flask, key: str) -> bool:
    seen = _waiting_seen(app).get(key)
    return seen is not None and time.monotonic() - seen < UNIQUE_LOCAL_WINDOW


def _note_waiting(app: Flask, key: str) -> None:
    _waiting_seen(app)[key] = time.monotonic()


def forget_waiting(app: Flask) -> None:
    """Drop what this process remembers of waiting jobs (its Redis was emptied)."""
    _waiting_seen(app).clear()


def release_unique(key: str) -> float | None:
    """Called by a coalesced job as it starts: later work queues a new job.

    Returns the moment of the release (``time.monotonic()``): the job must read its
    work once more when ``UNIQUE_LOCAL_WINDOW`` has passed since then, for work stored
    by processes that relied on having seen it waiting (:func:`wait_for_final_pass`)."""
    app = current_app._get_current_object() if has_app_context() else _worker_app
    if app is not None and app.config.get("REDIS_URL"):
        get_redis(app).delete(_unique_flag(key))
        return time.monotonic()
    return None  # in-process jobs are not coalesced


def wait_for_final_pass(released_at: float | None) -> None:
    """Sleep until a coalesced job's last pass is due (see :func:`release_unique`)."""
    if released_at is None:
        return
    delay = released_at + UNIQUE_LOCAL_WINDOW - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _run_in_app(app: Flask, spec: JobSpec) -> None:
    with app.app_context(), entered(Scope.decode(spec.scope)):
        try:
            call(spec.func, *spec.args)
        except Exception:
            log.exception("in-process job %s failed", spec.func)
            if app.config.get("INPROCESS_JOBS") == "sync":
                raise


_executors: dict[int, ThreadPoolExecutor] = {}


def _executor(app: Flask) -> ThreadPoolExecutor:
    key = id(app)
    if key not in _executors:
        _executors[key] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jobs")
    return _executors[key]


def runs_under(bypass: str):
    """Declare that a job target runs under the tenancy bypass named ``bypass``
    (core.scope.BYPASSES), whatever scope it was queued in: for a job whose work
    belongs to every reseller, queued from a request that belongs to one or none."""
    Scope.decode(Scope(bypass=bypass).encode())  # an undeclared name fails at import

    def declare(func):
        func.tenancy_bypass = bypass
        return func

    return declare


def call(func_path: str, *args):
    module_name, _, attr = func_path.rpartition(".")
    func = getattr(importlib.import_module(module_name), attr)
    declared = getattr(func, "tenancy_bypass", None)
    if declared is None:
        return func(*args)
    with entered(Scope(bypass=declared)):
        return func(*args)


_worker_app: Flask | None = None


def execute(func_path: str, *args, tenancy_scope: str | None = None):
    """Entry point for RQ workers: run the job inside an application context, in the
    tenancy scope it was queued in (jobs of the previous release carry none)."""
    global _worker_app
    scope = Scope.decode(tenancy_scope)
    if has_app_context():
        with entered(scope):
            return call(func_path, *args)
    if _worker_app is None:
        from core import create_app  # noqa: PLC0415 - the RQ worker's entry: the app is built here, once

        _worker_app = create_app()
    with _worker_app.app_context(), entered(scope):
        return call(func_path, *args)


def get_redis(app: Flask):
    conn = app.extensions.get("redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["redis"] = conn
    return conn


def get_queue(app: Flask, name: str):
    return Queue(name, connection=get_redis(app))


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


# --- periodic jobs ----------------------------------------------------------------------
# Deadlines live in the database; these sweeps find what is due. With Redis, RQ's
# scheduler runs them (one scheduled job per sweep, with a fixed id, so several
# workers never pile them up); without Redis (the demo), a daemon thread does.

PERIODIC: dict[str, int] = {}
# The named tenancy bypass each sweep runs under (core.scope.BYPASSES): they cross resellers.
PERIODIC_BYPASS: dict[str, str] = {}


def periodic(func_path: str, every_seconds: int, *, bypass: str) -> None:
    """Declare ``func_path`` to run every ``every_seconds`` under the tenancy bypass
    named ``bypass``."""
    PERIODIC_BYPASS[func_path] = Scope(bypass=bypass).encode()
    Scope.decode(PERIODIC_BYPASS[func_path])  # an undeclared name fails at start-up
    PERIODIC[func_path] = every_seconds


def periodic_job_id(func_path: str) -> str:
    return "periodic-" + func_path.replace(".", "-")


def schedule_periodic(app: Flask) -> None:
    """(Re)schedule every periodic job on RQ's scheduler, idempotently."""
    queue = get_queue(app, "maintenance")
    for func_path, every in PERIODIC.items():
        _schedule_next(queue, func_path, every)


def _schedule_next(queue, func_path: str, every: int) -> None:
    # Every run reuses the fixed id, so the job's hash must outlive the period: with
    # RQ's default result TTL (500 s) a finished run's hash expires before a next run
    # due later than that, and RQ's scheduler then drops that run without a word.
    when, job_id = timedelta(seconds=every), periodic_job_id(func_path)
    queue.enqueue_in(when, "core.jobs.run_periodic", func_path, job_id=job_id, result_ttl=-1)


def ensure_periodic(app: Flask) -> int:
    """Schedule every periodic job that is neither scheduled, waiting nor running (Redis
    lost it, restarted without persistence); returns how many were missing."""
    queue = get_queue(app, "maintenance")
    known = (
        set(ScheduledJobRegistry(queue=queue).get_job_ids())
        | set(StartedJobRegistry(queue=queue).get_job_ids())
        | set(queue.get_job_ids())
    )
    missing = [path for path in PERIODIC if periodic_job_id(path) not in known]
    for func_path in missing:
        _schedule_next(queue, func_path, PERIODIC[func_path])
    return len(missing)


def run_periodic(func_path: str) -> None:
    """RQ entry point: run the sweep, then schedule its next run."""
    try:
        execute(func_path, tenancy_scope=PERIODIC_BYPASS.get(func_path))
    finally:
        app = current_app._get_current_object() if has_app_context() else _worker_app
        if app is not None and app.config.get("REDIS_URL") and func_path in PERIODIC:
            _schedule_next(get_queue(app, "maintenance"), func_path, PERIODIC[func_path])


def start_inprocess_periodic(app: Flask) -> None:
    """Demo without Redis: run the periodic jobs from a daemon thread."""
    thread_mode = app.config.get("INPROCESS_JOBS") == "thread" and not app.config.get("REDIS_URL")
    if not thread_mode or not PERIODIC or app.extensions.get("periodic_thread"):
        return

    def loop() -> None:
        due = {path: time.monotonic() + every for path, every in PERIODIC.items()}
        while True:
            time.sleep(5)
            now = time.monotonic()
            for path, when in due.items():
                if now >= when:
                    due[path] = now + PERIODIC[path]
                    _run_in_app(app, JobSpec(path, (), "maintenance", scope=PERIODIC_BYPASS.get(path)))

    thread = threading.Thread(target=loop, name="periodic-jobs", daemon=True)
    thread.start()
    app.extensions["periodic_thread"] = thread

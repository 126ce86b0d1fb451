"""Fault drills for the Stripe webhook pipeline: the real processes (gunicorn with two
workers, ``flask worker --with-scheduler``, redis-server, PostgreSQL) are broken on
purpose and every event must still end applied exactly once.

Each drill has its own database (and its own Redis, and for the restart drill its own
PostgreSQL cluster); the shared servers are never stopped. They run only in the
PostgreSQL + Redis pass of the suite. Helpers: ``tests/drills.py``.

Effects are checked in the database: an extra-pack Checkout credits its pack once (one
``extra_packs`` row and one payment per Checkout, the client's ``extra_balance`` grown
by exactly the packs, one audit entry each), and each inbox row is applied once
(``processed_at`` set, ``outcome`` "pack credited": a second application would find the
row applied and change nothing, a lost one leaves ``processed_at`` empty).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq import Queue

from tests.drills import (
    PG_BIN,
    REDIS_SERVER,
    Delivery,
    Lab,
    ManagedProcess,
    RedisServer,
    WebServer,
    create_database,
    db_execute,
    db_rows,
    db_scalar,
    deliver,
    deliver_all,
    flask_command,
    lapse_dead_worker_leases,
    listening_worker,
    production_env,
    queues_idle,
    queues_quiet,
    run_python,
    start_gunicorn,
    start_postgres_cluster,
    start_redis,
    start_worker,
    started_jobs,
    wait_until,
)
from tests.stripe_fake import stripe_event

_TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite")

pytestmark = [
    pytest.mark.skipif(
        not _TEST_DATABASE_URL.startswith("postgresql"),
        reason="fault drills run only in the PostgreSQL + Redis pass (TEST_DATABASE_URL is not postgresql)",
    ),
    pytest.mark.skipif(
        not (Path(REDIS_SERVER).exists() and (PG_BIN / "pg_ctl").exists() and shutil.which("runuser")),
        reason="fault drills need redis-server, PostgreSQL 15's binaries and runuser on this machine",
    ),
    # Everything happens in other processes and databases: no per-test transaction here.
    pytest.mark.real_commits,
    pytest.mark.drill,
]

SECRET = "whsec_drill_secret"
CLIENTS = 4
CONVERSATIONS = 3  # per extra pack
AMOUNT = 1990

# Migrate (the release step) and create a reseller with a few clients, in a process of
# its own on the production settings; prints the clients' ids.
RELEASE = f"""
import json

from flask_migrate import upgrade

from core.extensions import db
from seeds.documents import make_cnpj
from reseller.resellers import create_reseller
from tenant.models import Client
from wsgi import app

with app.app_context():
    upgrade()
    reseller, _login = create_reseller(
        name="Drill", host="drill.test", owner_email="owner@drill.test", require_staff_2fa=False
    )
    clients = [
        Client(
            reseller_id=reseller.id,
            trade_name=f"Drill {{n}}",
            legal_name=f"Drill {{n}} Ltda",
            email=f"drill{{n}}@drill.test",
            document_type="cnpj",
            document=make_cnpj(9000 + n),
        )
        for n in range({CLIENTS})
    ]
    db.session.add_all(clients)
    db.session.commit()
    print(json.dumps([client.id for client in clients]))
"""


@dataclass
class Stack:
    """The app on its services: database, Redis, gunicorn, workers."""

    lab: Lab
    database_url: str
    redis: RedisServer
    env: dict[str, str]
    client_ids: list[int]
    web: WebServer
    _serial: int = 0

    @property
    def redis_url(self) -> str:
        return self.env["REDIS_URL"]

    def start_worker(self) -> ManagedProcess:
        return start_worker(self.lab, self.env)

    def pack_events(self, count: int, label: str) -> list[dict]:
        """``count`` paid extra-pack Checkouts, spread over the clients."""
        events = []
        for _ in range(count):
            self._serial += 1
            n = self._serial
            checkout = {
                "id": f"cs_drill_{label}_{n}",
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": AMOUNT,
                "payment_intent": f"pi_drill_{label}_{n}",
                "metadata": {
                    "client_id": str(self.client_ids[n % len(self.client_ids)]),
                    "kind": "extra_pack",
                    "conversations": str(CONVERSATIONS),
                    "method": "card",
                },
            }
            events.append(
                stripe_event("checkout.session.completed", checkout, event_id=f"evt_drill_{label}_{n}")
            )
        return events

    def deliver(self, events: list[dict], threads: int = 8) -> list[Delivery]:
        return deliver_all(self.web.url, events, SECRET, threads=threads)

    def redeliver(self, events: list[dict], *, rounds: int = 5) -> list[dict]:
        """Deliver ``events`` again until acknowledged, as Stripe retries (a few rounds,
        a second apart); returns those still refused."""
        pending = list(events)
        for _round in range(rounds):
            if not pending:
                break
            results = self.deliver(pending, threads=4)
            pending = [e for e, d in zip(pending, results, strict=True) if not d.ok]
            if pending:
                time.sleep(1)
        return pending

    def processed(self) -> int:
        return db_scalar(
            self.database_url, "SELECT count(*) FROM stripe_events WHERE processed_at IS NOT NULL"
        )

    def stored_ids(self, event_ids: list[str]) -> set[str]:
        rows = db_rows(
            self.database_url, "SELECT event_id FROM stripe_events WHERE event_id = ANY(%s)", (event_ids,)
        )
        return {row[0] for row in rows}

    def state(self) -> str:
        """Counters and the processes' log tails, for failure messages."""
        try:
            counts = db_rows(
                self.database_url,
                "SELECT count(*), count(processed_at), count(*) FILTER (WHERE attempts > 0 "
                "AND processed_at IS NULL), max(last_error) FROM stripe_events",
            )[0]
            line = (
                f"inbox rows {counts[0]}, processed {counts[1]}, failed and pending {counts[2]}, {counts[3]}"
            )
        except Exception as exc:  # noqa: BLE001 - a diagnostic must not hide the failure
            line = f"(database unreadable: {exc!r})"
        try:
            line += f"; RQ running {started_jobs(self.redis_url)}"
        except Exception as exc:  # noqa: BLE001
            line += f"; (Redis unreadable: {exc!r})"
        return line + "\n" + self.lab.report()

    def wait_all_applied(self, total: int, timeout: float) -> None:
        wait_until(
            lambda: self.processed() >= total,
            timeout=timeout,
            interval=0.25,
            what=f"all {total} inbox rows to be applied",
            diagnostics=self.state,
        )
        # Let whatever is still running or queued finish, so a late duplicate would show.
        wait_until(
            lambda: queues_idle(self.redis_url),
            timeout=30,
            interval=0.25,
            what="the job queues to be idle",
            diagnostics=self.state,
        )

    def assert_applied_exactly_once(self, events: list[dict]) -> None:
        """Every event: one inbox row, applied once, one pack credited; nothing else."""
        url = self.database_url
        expected = {event["id"] for event in events}
        checkouts = {event["data"]["object"]["id"] for event in events}
        assert len(expected) == len(events) and len(checkouts) == len(events)

        rows = db_rows(url, "SELECT event_id, processed_at IS NOT NULL, outcome FROM stripe_events")
        per_event = Counter(row[0] for row in rows)
        missing, unexpected = expected - set(per_event), set(per_event) - expected
        assert not missing, f"{len(missing)} events have no inbox row, e.g. {sorted(missing)[:5]}"
        assert not unexpected, f"unexpected inbox rows, e.g. {sorted(unexpected)[:5]}"
        assert max(per_event.values()) == 1
        not_applied = [row for row in rows if not row[1] or row[2] != "pack credited"]
        assert not not_applied, f"{len(not_applied)} rows not applied as expected, e.g. {not_applied[:5]}"

        packs = Counter(
            row[0]
            for row in db_rows(url, "SELECT stripe_checkout_id FROM extra_packs WHERE source = 'stripe'")
        )
        assert set(packs) == checkouts and max(packs.values()) == 1, "a pack is missing or credited twice"
        payments = Counter(
            row[0]
            for row in db_rows(url, "SELECT stripe_checkout_id FROM payments WHERE kind = 'extra_pack'")
        )
        assert set(payments) == checkouts and max(payments.values()) == 1, "a payment is missing or doubled"
        balance = db_scalar(url, "SELECT sum(extra_balance) FROM clients")
        assert balance == CONVERSATIONS * len(events), (
            f"extra balance {balance}, expected {CONVERSATIONS}×{len(events)}"
        )
        audits = db_scalar(
            url, "SELECT count(*) FROM audit_events WHERE action = 'billing.extra_pack_credited'"
        )
        assert audits == len(events)

    def effects_match_processed_rows(self) -> tuple[int, int, int, int]:
        """(processed rows, packs, payments, conversations credited) in one snapshot."""
        return db_rows(
            self.database_url,
            "SELECT (SELECT count(*) FROM stripe_events WHERE processed_at IS NOT NULL), "
            "(SELECT count(*) FROM extra_packs), "
            "(SELECT count(*) FROM payments WHERE kind = 'extra_pack'), "
            "(SELECT coalesce(sum(extra_balance), 0) FROM clients)",
        )[0]


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path / "lab")
    yield lab
    problems = lab.cleanup()
    assert not problems, f"clean-up problems: {problems}"


def build_stack(lab: Lab, *, database_url: str, redis: RedisServer, smtp_url: str) -> Stack:
    """Migrate and seed the database, then serve the app with gunicorn (2 workers)."""
    env = production_env(
        database_url=database_url,
        redis_url=redis.url(0),
        instance_dir=lab.root / "instance",
        smtp_url=smtp_url,
        stripe_webhook_secret=SECRET,
        DEFAULT_RESELLER_HOST="drill.test",
    )
    output = run_python(lab, env, RELEASE, name="release")
    client_ids = json.loads(output.strip().splitlines()[-1])
    web = start_gunicorn(lab, env, workers=2)
    return Stack(lab, database_url, redis, env, client_ids, web)


@pytest.fixture
def smtp_url(smtp_server):
    _box, url = smtp_server
    return url


# --- drill 1: the worker is killed in the middle of a drain ---------------------------------

BACKLOG = 600  # several seconds of draining on a small machine (about 100 rows/s)
KILL_AFTER = 80  # rows applied before the kill


@pytest.mark.parametrize("victim", ["work horse", "whole worker"])
def test_worker_killed_mid_drain_every_event_is_applied_once(lab, smtp_url, victim):
    """A backlog of Checkouts waits for one drain job; part-way through the drain the
    worker is killed with SIGKILL: only its work horse (the process running the job, the
    one an OOM killer picks) or the whole worker (main process, scheduler and horse, as
    when its machine dies). Nothing is half-applied, and every event ends applied
    exactly once, with no new delivery to help.

    What brings the rest back is RQ, through the drain's ``retries=3``:

    - work horse: the surviving main process sees its horse die, fails the job and
      schedules its retry (10 s later); its scheduler enqueues it and the retry applies
      the rest;
    - whole worker: a new worker is started. Its start-up maintenance finds the killed
      drain in the started registry (abandoned job) and schedules its retry; the new
      worker's scheduler enqueues it. RQ counts a job as abandoned only once its
      heartbeat lapsed (60-90 s), and the dead worker's scheduler locks keep a new
      scheduler out for 61 s; the drill fast-forwards both
      (``lapse_dead_worker_leases``) instead of waiting 90 s.

    The app's periodic sweep is not needed (it would only take rows older than two
    minutes, a minute after the worker starts).
    """
    stack = build_stack(lab, database_url=create_database(lab), redis=start_redis(lab), smtp_url=smtp_url)
    events = stack.pack_events(BACKLOG, "kill")
    deliveries = stack.deliver(events)
    assert all(d.ok for d in deliveries), Counter((d.status, d.error) for d in deliveries)
    assert stack.processed() == 0  # no worker yet: one drain job waits with the whole backlog

    worker = stack.start_worker()
    killed_at = wait_until(
        lambda: stack.processed() >= KILL_AFTER and _kill(worker, victim),
        timeout=60,
        interval=0.02,
        what=f"the drain to apply {KILL_AFTER} rows",
        diagnostics=stack.state,
    )
    processed, packs, payments, balance = stack.effects_match_processed_rows()
    assert KILL_AFTER <= processed < BACKLOG, f"the drain ended before the kill ({processed}): raise BACKLOG"
    # Killed mid-transaction: the row being applied and its effects were rolled back together.
    assert (packs, payments, balance) == (processed, processed, CONVERSATIONS * processed)

    if victim == "whole worker":
        running = started_jobs(stack.redis_url).get("billing", [])
        assert len(running) == 1, f"expected the killed drain in RQ's started registry, found {running}"
        time.sleep(1)
        assert stack.processed() == processed, "rows were applied while no worker was alive"
        lapse_dead_worker_leases(stack.redis_url)
        stack.start_worker()
    else:
        assert worker.alive(), "the worker's main process died with its horse\n" + stack.state()

    stack.wait_all_applied(BACKLOG, timeout=90)
    recovered_in = time.monotonic() - killed_at
    stack.assert_applied_exactly_once(events)
    print(f"{victim}: killed after {processed}/{BACKLOG} rows, all applied {recovered_in:.1f}s later")


def _kill(worker: ManagedProcess, victim: str) -> float:
    if victim == "whole worker":
        worker.kill()
    else:
        # The horse is the child leading a process group of its own (RQ calls setpgrp()
        # in it); the scheduler, the other child, stays in the worker's group.
        (horse,) = [p for p in worker.children() if p.pgid == p.pid]
        os.kill(horse.pid, signal.SIGKILL)
    return time.monotonic()


# --- drill 2: Redis dies while webhooks arrive ----------------------------------------------


def test_redis_down_while_webhooks_arrive_every_event_is_applied_once(lab, smtp_url):
    """Redis is killed while Stripe keeps delivering: the intake still answers, and it
    answers 2xx only for events whose inbox row is committed. Redis comes back empty on
    the same port (a non-persistent Redis forgets the queues); the worker, kept running,
    reconnects; undelivered events are retried as Stripe would and the traffic that
    follows queues a drain that applies the whole backlog, each event once.

    Without that traffic the backlog would wait a long time: the restart emptied RQ's
    scheduled registry, so the periodic inbox sweep is gone until a worker starts again
    (``schedule_periodic`` runs only then), and the worker's scheduler process died with
    the connection (RQ restarts it at its next maintenance, every 10 minutes).
    """
    redis = start_redis(lab)
    stack = build_stack(lab, database_url=create_database(lab), redis=redis, smtp_url=smtp_url)
    worker = stack.start_worker()
    before = stack.pack_events(5, "before")
    assert all(d.ok for d in stack.deliver(before))
    stack.wait_all_applied(len(before), timeout=30)

    redis.stop(crash=True)
    during = stack.pack_events(40, "during")
    started = time.monotonic()
    deliveries = stack.deliver(during, threads=4)
    took = time.monotonic() - started
    stored = stack.stored_ids([e["id"] for e in during])
    for delivery in deliveries:
        if delivery.ok:
            assert delivery.event_id in stored, f"{delivery.event_id} answered 2xx but is not in the inbox"
        else:
            assert delivery.status is None or delivery.status >= 500, delivery
    assert stack.processed() == len(before), "nothing can be applied without Redis"
    assert took < 30, f"the intake took {took:.1f}s for {len(during)} events with Redis down"

    redis.start()  # same port, empty
    still_refused = stack.redeliver([e for e, d in zip(during, deliveries, strict=True) if not d.ok])
    assert not still_refused, f"{len(still_refused)} events still refused after Redis came back"
    assert worker.alive(), "the worker died with Redis\n" + stack.state()

    # Traffic goes on: the next event queues a drain, which takes the whole backlog.
    after = stack.pack_events(5, "after")
    assert all(d.ok for d in stack.deliver(after))
    everything = before + during + after
    stack.wait_all_applied(len(everything), timeout=60)
    stack.assert_applied_exactly_once(everything)


# --- drill 3: PostgreSQL restarts during a burst ------------------------------------------------


@dataclass
class Burst:
    """Threads delivering new events until stopped; every attempt is recorded with the
    phase of the drill it was sent in."""

    stack: Stack
    threads: int = 4
    phase: str = "before"
    events: list[dict] = field(default_factory=list)
    attempts: list[tuple[str, float, Delivery]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for _ in range(self.threads):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(30)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                with self._lock:
                    (event,) = self.stack.pack_events(1, "burst")
                    self.events.append(event)
                phase = self.phase
                result = deliver(session, self.stack.web.url, event, SECRET, timeout=15)
                with self._lock:
                    self.attempts.append((phase, time.monotonic(), result))
                time.sleep(0.01)

    def count(self, phase: str | None = None, *, ok: bool | None = None) -> int:
        with self._lock:
            return sum(
                1
                for p, _t, d in self.attempts
                if (phase is None or p == phase) and (ok is None or d.ok == ok)
            )


def worker_lab(lab: Lab, smtp_url: str) -> tuple[RedisServer, dict[str, str]]:
    """A Redis server of the drill's own and the environment of a worker on a fresh database."""
    redis = start_redis(lab)
    env = production_env(
        database_url=create_database(lab),
        redis_url=redis.url(0),
        instance_dir=lab.root / "instance",
        smtp_url=smtp_url,
        stripe_webhook_secret=SECRET,
        DEFAULT_RESELLER_HOST="drill.test",
    )
    return redis, env


@pytest.mark.parametrize("no_fork", [False, True])
def test_an_idle_worker_stops_on_sigterm(lab, smtp_url, no_fork):
    """A deploy stops workers with SIGTERM: idle, RQ leaves its loop without marking a
    stop request, and ``flask worker`` must not take that for a lost Redis and start
    again (it did: only the platform's SIGKILL ended it)."""
    redis, env = worker_lab(lab, smtp_url)
    worker = start_worker(lab, env, with_scheduler=False, queues=("maintenance",), no_fork=no_fork)
    # Registered is not yet listening: RQ installs its signal handlers after registering.
    wait_until(
        lambda: listening_worker(env["REDIS_URL"], worker.pid),
        timeout=30,
        what="the worker to listen",
        diagnostics=lab.report,
    )
    worker.signal_group(signal.SIGTERM)
    assert worker.popen.wait(15) == 0, lab.report()


def test_redis_lost_mid_job_the_worker_carries_on(lab, smtp_url):
    """RQ's work loop quits when Redis disappears while a job runs (an idle worker only
    waits for it): ``flask worker`` starts its loop again once Redis answers, so the
    jobs queued afterwards still run, with no one restarting the worker."""
    redis, env = worker_lab(lab, smtp_url)
    worker = start_worker(lab, env, with_scheduler=False, queues=("maintenance",))
    with Redis.from_url(redis.url(0)) as conn:
        Queue("maintenance", connection=conn).enqueue("time.sleep", 3)
    wait_until(
        lambda: any(started_jobs(redis.url(0)).values()),
        timeout=30,
        what="the job to start",
        diagnostics=lab.report,
    )

    redis.stop(crash=True)  # while the job sleeps: RQ cannot record its end
    time.sleep(5)
    redis.start()  # same port, empty
    assert worker.alive(), "the worker died with Redis\n" + lab.report()

    with Redis.from_url(redis.url(0)) as conn:
        job = Queue("maintenance", connection=conn).enqueue("time.sleep", 0)
        wait_until(
            lambda: job.get_status(refresh=True) == "finished",
            timeout=30,
            what="a job queued after Redis came back to run",
            diagnostics=lab.report,
        )
    assert worker.alive()


# What an error page must not show: internals (in any case) and SQL (as the driver quotes it).
LEAKED_WORDS = ("traceback", "psycopg", "sqlalchemy", "operationalerror", "postgres", "connection to server")
LEAKED_SQL = ("INSERT INTO", "SELECT ", "ON CONFLICT", "RETURNING", "stripe_events")


def test_postgres_restarted_during_a_burst_every_event_is_applied_once(lab, smtp_url):
    """The app runs on a private PostgreSQL cluster, restarted (fast shutdown, a pause,
    start) in the middle of a burst of deliveries. While it is down the intake answers
    5xx, and its error pages show no traceback, driver name or SQL. Every event not
    acknowledged is delivered again (as Stripe retries) and in the end every event is
    applied exactly once."""
    cluster = start_postgres_cluster(lab)
    stack = build_stack(
        lab, database_url=cluster.create_database(), redis=start_redis(lab), smtp_url=smtp_url
    )
    stack.start_worker()
    burst = Burst(stack)
    burst.start()
    try:
        wait_until(
            lambda: burst.count(ok=True) >= 30, timeout=30, what="30 deliveries", diagnostics=stack.state
        )
        burst.phase = "down"
        cluster.stop("fast")
        down_since = time.monotonic()
        wait_until(
            lambda: burst.count("down") >= 12 and time.monotonic() - down_since >= 2,
            timeout=20,
            what="deliveries while the database is down",
            diagnostics=stack.state,
        )
        cluster.start()
        burst.phase = "after"
        wait_until(
            lambda: burst.count("after", ok=True) >= 30,
            timeout=30,
            what="30 deliveries after the restart",
            diagnostics=stack.state,
        )
    finally:
        burst.stop()

    down = [d for phase, _t, d in burst.attempts if phase == "down"]
    refused = [d for _p, _t, d in burst.attempts if not d.ok]
    assert any(not d.ok for d in down), "no delivery met the database down: the drill proved nothing"
    for delivery in refused:
        assert delivery.status is not None and delivery.status >= 500, delivery
        leaked = [w for w in LEAKED_WORDS if w in delivery.body.lower()]
        leaked += [w for w in LEAKED_SQL if w in delivery.body]
        assert not leaked, f"the error page shows {leaked}: {delivery.body[:500]}"
    stored = stack.stored_ids([e["id"] for e in burst.events])
    acknowledged = {d.event_id for _p, _t, d in burst.attempts if d.ok}
    assert acknowledged <= stored, f"answered 2xx but not in the inbox: {sorted(acknowledged - stored)[:5]}"

    # Stripe delivers again whatever was not acknowledged.
    still_refused = stack.redeliver([e for e in burst.events if e["id"] not in acknowledged])
    assert not still_refused, f"{len(still_refused)} events still refused after the restart"

    stack.wait_all_applied(len(burst.events), timeout=60)
    stack.assert_applied_exactly_once(burst.events)
    print(
        f"{len(burst.attempts)} deliveries, {len(down)} while down; "
        f"refused: {Counter(d.status for d in refused)}, re-delivered {len(burst.events) - len(acknowledged)}"
    )


# --- drill 4: the worker is killed in the middle of a client's purge ------------------------

PURGE_MESSAGES = 200_000
PURGE_CONVERSATIONS = 4_000
PURGE_BATCH = 500  # rows per transaction: a few hundred batches, seconds of work

# Parameters arrive as JSON in the DRILL_SEED environment variable.
PURGE_SEED = """
import json
import os
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import text

from core.extensions import db
from core.timeutil import utcnow
from reseller.models import ClientDeletion
from reseller.purge import enqueue_purge
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.models import Client
from wsgi import app

PARAMS = json.loads(os.environ["DRILL_SEED"])

FILL = [
    "INSERT INTO logins (reseller_id, email, created_at) "
    "SELECT :r, 'u' || g || '@' || :tag || '.test', now() FROM generate_series(1, 5) g",
    "INSERT INTO accounts (reseller_id, login_id, client_id, kind, name, active, permissions, chat_level, "
    "view_phones, created_at) SELECT :r, id, :c, 'client_user', 'User', true, '[]', 6, true, now() "
    "FROM logins WHERE email LIKE '%@' || :tag || '.test'",
    "INSERT INTO contacts (reseller_id, client_id, name, phone, created_at) "
    "SELECT :r, :c, 'Contato ' || g, '55119' || lpad(g::text, 8, '0'), now() FROM generate_series(1, :n) g",
    "INSERT INTO conversations (reseller_id, client_id, contact_id, status, created_at, last_message_at) "
    "SELECT reseller_id, client_id, id, 'open', now(), now() FROM contacts WHERE client_id = :c",
    "INSERT INTO session_windows (reseller_id, client_id, contact_id, conversation_id, source, opened_at, "
    "expires_at) SELECT reseller_id, client_id, contact_id, id, 'plan', now(), now() + interval '1 day' "
    "FROM conversations WHERE client_id = :c",
    "INSERT INTO messages (reseller_id, client_id, conversation_id, direction, body, is_template, "
    "created_at) "
    "SELECT c.reseller_id, c.client_id, c.id, 'in', 'Mensagem ' || g, false, now() "
    "FROM conversations c CROSS JOIN generate_series(1, :per) g WHERE c.client_id = :c",
]

with app.test_request_context("/", base_url="http://drill.test"):
    upgrade()
    reseller, login = create_reseller(
        name="Drill", host="drill.test", owner_email="owner@drill.test", require_staff_2fa=False
    )
    doomed, neighbour = (
        Client(reseller_id=reseller.id, trade_name=name, legal_name=name + " Ltda",
               email=name + "@drill.test", document_type="cnpj", document=make_cnpj(n))
        for n, name in ((9100, "apagada"), (9101, "vizinha"))
    )
    db.session.add_all([doomed, neighbour])
    db.session.flush()
    for client, n in ((doomed, PARAMS["conversations"]), (neighbour, 100)):
        for sql in FILL:
            db.session.execute(
                text(sql),
                {"r": reseller.id, "c": client.id, "tag": client.trade_name, "n": n,
                  "per": PARAMS["per"]},
            )
    doomed.deleted_at = utcnow()
    row = ClientDeletion(
        reseller_id=reseller.id, client_id=doomed.id, requested_by_account_id=login.accounts[0].id,
        purge_due_at=utcnow() - timedelta(seconds=1), counts={}, purged_rows={},
    )
    db.session.add(row)
    db.session.flush()
    enqueue_purge(row)  # queued on Redis when this transaction commits
    db.session.commit()
    print(json.dumps({"deletion": row.id, "doomed": doomed.id, "neighbour": neighbour.id}))
"""


def test_worker_killed_mid_purge_the_purge_finishes_once(lab, smtp_url):
    """A deleted client with 200,000 messages is being purged in batches of 500 when
    the whole worker is killed with SIGKILL. Every batch counted in the tombstone was
    deleted in the same transaction, so the half-done state is consistent. The dead run
    holds the purge until its lease lapses (5 minutes without a heartbeat; the drill
    moves the heartbeat back instead of waiting); then the sweep (``flask clients
    purge-due``, what the periodic job does) queues it again and a new worker finishes:
    nothing of the client is left, the neighbour is whole, and every row was counted
    once. Running the sweep again does nothing."""
    redis = start_redis(lab)
    database_url = create_database(lab)
    env = production_env(
        database_url=database_url,
        redis_url=redis.url(0),
        instance_dir=lab.root / "instance",
        smtp_url=smtp_url,
        CLIENT_PURGE_BATCH=str(PURGE_BATCH),
        DRILL_SEED=json.dumps(
            {"conversations": PURGE_CONVERSATIONS, "per": PURGE_MESSAGES // PURGE_CONVERSATIONS}
        ),
    )
    ids = json.loads(
        run_python(lab, env, PURGE_SEED, name="purge-seed", timeout=300).strip().splitlines()[-1]
    )
    deletion_id, doomed, neighbour = ids["deletion"], ids["doomed"], ids["neighbour"]
    neighbour_messages = db_scalar(
        database_url, "SELECT count(*) FROM messages WHERE client_id = %s", (neighbour,)
    )

    def purged_messages() -> int:
        return db_scalar(
            database_url,
            "SELECT coalesce((purged_rows->>'messages')::int, 0) FROM client_deletions WHERE id = %s",
            (deletion_id,),
        )

    worker = start_worker(lab, env)
    wait_until(
        lambda: purged_messages() >= 20 * PURGE_BATCH and (worker.kill() or True),
        timeout=120,
        interval=0.02,
        what="the purge to be well under way",
        diagnostics=lab.report,
    )
    left = db_scalar(database_url, "SELECT count(*) FROM messages WHERE client_id = %s", (doomed,))
    assert 0 < left < PURGE_MESSAGES, f"the purge ended before the kill ({left} left): raise PURGE_MESSAGES"
    # What the tombstone counts is exactly what is gone: batch and count commit together.
    assert purged_messages() == PURGE_MESSAGES - left
    status = db_scalar(database_url, "SELECT status FROM client_deletions WHERE id = %s", (deletion_id,))
    assert status == "purging"

    # A new worker retries the abandoned job; the dead run's lease still holds the purge.
    lapse_dead_worker_leases(redis.url(0))
    start_worker(lab, env)
    # Until the retried job has run (it finds the lease held and leaves): on a loaded
    # machine a fixed pause could end first, and the retry would then take the purge over.
    wait_until(
        lambda: queues_quiet(redis.url(0)),
        timeout=120,
        interval=0.2,
        what="the retried purge job to give way to the lease",
        diagnostics=lab.report,
    )
    assert db_scalar(database_url, "SELECT count(*) FROM messages WHERE client_id = %s", (doomed,)) == left
    # Five minutes without a heartbeat: the lease lapses and the sweep queues the purge again.
    db_execute(
        database_url,
        "UPDATE client_deletions SET heartbeat_at = heartbeat_at - interval '6 minutes' WHERE id = %s",
        (deletion_id,),
    )
    assert "1 purge(s) queued" in flask_command(lab, env, "clients", "purge-due")
    wait_until(
        lambda: (
            db_scalar(database_url, "SELECT status FROM client_deletions WHERE id = %s", (deletion_id,))
            == "purged"
        ),
        timeout=120,
        interval=0.25,
        what="the purge to finish",
        diagnostics=lab.report,
    )

    for table in ("messages", "conversations", "contacts", "session_windows", "accounts"):
        assert db_scalar(database_url, f"SELECT count(*) FROM {table} WHERE client_id = %s", (doomed,)) == 0  # noqa: S608
    assert db_scalar(database_url, "SELECT count(*) FROM clients WHERE id = %s", (doomed,)) == 0
    assert (
        db_scalar(database_url, "SELECT count(*) FROM logins WHERE email LIKE %s", ("%@apagada.test",)) == 0
    )
    assert (
        db_scalar(database_url, "SELECT count(*) FROM messages WHERE client_id = %s", (neighbour,))
        == neighbour_messages
    )
    assert purged_messages() == PURGE_MESSAGES  # every row counted once, across the crash
    actions = Counter(
        row[0]
        for row in db_rows(
            database_url,
            "SELECT action FROM audit_events WHERE action IN ('client.purge_started', 'client.purged')",
        )
    )
    assert actions == {"client.purge_started": 1, "client.purged": 1}
    assert "0 purge(s) queued" in flask_command(lab, env, "clients", "purge-due")


# --- drill 5: one confirmation code sent twice at once ---------------------------------------

CODE_SEED = """
import json

from flask_migrate import upgrade

from auth.models import Login
from core.extensions import db
from core.timeutil import utcnow
from seeds.documents import make_cnpj
from reseller.resellers import create_reseller
from tenant.models import Client
from wsgi import app

with app.test_request_context("/", base_url="http://drill.test"):
    upgrade()
    reseller, login = create_reseller(
        name="Drill", host="drill.test", owner_email="owner@drill.test",
        owner_password="drill-password-2026", require_staff_2fa=False,
    )
    login.verified_at = utcnow()  # past its first-login code
    client = Client(reseller_id=reseller.id, trade_name="Dupla", legal_name="Dupla Ltda",
                    email="dupla@drill.test", document_type="cnpj", document=make_cnpj(9200))
    db.session.add(client)
    db.session.commit()
    print(json.dumps({"client": client.id}))
"""


class Visitor:
    """One browser on gunicorn: keeps the session cookie (sent by hand: production
    cookies are Secure and this is plain HTTP on loopback) and the CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.token = ""

    def _send(self, method: str, path: str, **kw) -> requests.Response:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer = requests.request(
            method, self.base + path, headers={"Cookie": header}, allow_redirects=False, timeout=30, **kw
        )
        self.cookies.update(answer.cookies.get_dict())
        match = re.search(r'name="csrf-token" content="([^"]+)"', answer.text)
        if match:
            self.token = match.group(1)
        return answer

    def get(self, path: str) -> requests.Response:
        return self._send("GET", path)

    def post(self, path: str, data: dict) -> requests.Response:
        return self._send("POST", path, data={**data, "csrf_token": self.token})


def test_a_confirmation_code_sent_twice_at_once_deletes_once(lab, smtp_server):
    """Staff double-submit the deletion code (two tabs, a double click): eight requests
    with the same code and session reach both gunicorn workers at once. One deletes the
    client; the others are refused; there is one deletion and one audit entry."""
    box, smtp = smtp_server
    box.clear()
    redis = start_redis(lab)
    database_url = create_database(lab)
    env = production_env(
        database_url=database_url,
        redis_url=redis.url(0),
        instance_dir=lab.root / "instance",
        smtp_url=smtp,
        DEFAULT_RESELLER_HOST="drill.test",
    )
    client_id = json.loads(run_python(lab, env, CODE_SEED, name="code-seed").strip().splitlines()[-1])[
        "client"
    ]
    web = start_gunicorn(lab, env, workers=2)
    start_worker(lab, env)  # sends the e-mails

    staff = Visitor(web.url)
    staff.get("/login")
    logged_in = staff.post("/login", {"email": "owner@drill.test", "password": "drill-password-2026"})
    assert logged_in.status_code == 302 and "/reseller" in logged_in.headers["Location"], logged_in.text[:500]
    staff.get(f"/reseller/clients/{client_id}/delete")
    asked = staff.post(f"/reseller/clients/{client_id}/delete/code", {})
    assert asked.status_code == 303
    wait_until(
        lambda: box.to("owner@drill.test"),
        timeout=30,
        what="the deletion code e-mail",
        diagnostics=lab.report,
    )
    code = re.search(r"^\s+(\d{6})\s*$", box.to("owner@drill.test")[-1]["text"], re.M).group(1)
    staff.get(f"/reseller/clients/{client_id}/delete/confirm")

    barrier = threading.Barrier(8)

    def submit(_n: int) -> int:
        barrier.wait()
        return staff.post(f"/reseller/clients/{client_id}/delete/confirm", {"code": code}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(submit, range(8)))
    deletions = db_scalar(
        database_url, "SELECT count(*) FROM client_deletions WHERE client_id = %s", (client_id,)
    )
    assert deletions == 1, statuses
    confirmed = db_scalar(
        database_url,
        "SELECT count(*) FROM audit_events WHERE action = 'client.deletion_confirmed' AND client_id = %s",
        (client_id,),
    )
    assert confirmed == 1
    assert db_scalar(database_url, "SELECT deleted_at IS NOT NULL FROM clients WHERE id = %s", (client_id,))
    assert all(status in (302, 404, 422) for status in statuses), statuses
    assert all(status < 500 for status in statuses)

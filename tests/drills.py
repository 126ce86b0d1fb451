"""Building blocks for fault drills: the app and its services as real processes.

A drill starts what it needs through a :class:`Lab` (private Redis servers, a private
PostgreSQL cluster or a fresh database on the shared one, gunicorn, RQ workers), breaks
something on purpose, and checks the outcome in the database. The lab owns every
process, folder and database it made; :meth:`Lab.cleanup` removes them all, in reverse
order, also after a failure. Process output goes to log files in the lab's folder;
:meth:`Lab.report` gives their tails for failure messages.

Nothing here knows about a particular drill: see ``tests/test_fault_drills.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests
from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from tests.stripe_fake import stripe_signature

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
REDIS_SERVER = "/usr/bin/redis-server"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SHARED_PG_ADMIN_URL = os.environ.get("DRILL_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = "revenda_drill_"


# --- waiting ----------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.1,
    what: str = "the condition",
    ignore: tuple[type[BaseException], ...] = (),
    diagnostics: Callable[[], str] | None = None,
):
    """Poll ``predicate`` until it returns something truthy, and return that.

    Exceptions listed in ``ignore`` count as "not yet" (a server that is restarting).
    On timeout, raise ``AssertionError`` naming ``what``, the last value or error seen,
    and ``diagnostics()`` (log tails, counters).
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = predicate()
        except ignore as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            message = f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
            if diagnostics is not None:
                message += "\n" + diagnostics()
            raise AssertionError(message)
        time.sleep(interval)


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# --- processes --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgid: int
    sid: int


def proc_info(pid: int) -> ProcInfo | None:
    """Parent, process group and session of a live process, from /proc (``None`` once
    it is gone or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name may hold spaces
    if fields[0] == "Z":
        return None
    return ProcInfo(pid, int(fields[1]), int(fields[2]), int(fields[3]))


def _processes() -> list[ProcInfo]:
    infos = (proc_info(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [info for info in infos if info is not None]


def descendants(pid: int) -> list[ProcInfo]:
    """Live descendants of ``pid`` (children, their children...), whatever their session."""
    table = _processes()
    found: list[ProcInfo] = []
    parents = {pid}
    while True:
        level = [p for p in table if p.ppid in parents and p not in found]
        if not level:
            return found
        found.extend(level)
        parents = {p.pid for p in level}


def _kill_quietly(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass
class ManagedProcess:
    """A process started in a session of its own (its pid is its process group).

    Its children may leave that group: RQ's work horse calls ``setpgrp()``, so killing
    the group alone leaves the horse running as an orphan. :meth:`kill` and
    :meth:`stop` take the whole tree.
    """

    name: str
    argv: list[str]
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[ProcInfo]:
        """Its live descendants (not the process itself)."""
        return descendants(self.pid) if self.alive() else []

    def children(self) -> list[ProcInfo]:
        return [p for p in self.tree() if p.ppid == self.pid]

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def _kill_tree(self, tree: list[ProcInfo]) -> None:
        self.signal_group(signal.SIGKILL)
        for process in tree:
            _kill_quietly(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)
        wait_until(
            lambda: all(proc_info(p.pid) is None for p in tree),
            timeout=10,
            what=f"{self.name}'s processes to die",
        )

    def kill(self) -> None:
        """``kill -9`` of the process and everything it started, with no warning to any
        of them (frozen first, so nothing forks in between)."""
        _kill_quietly(self.pid, signal.SIGSTOP)
        self._kill_tree(self.tree())

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the group, then SIGKILL the whole tree after ``timeout``."""
        tree = self.tree()
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self._kill_tree(tree)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@dataclass
class Lab:
    """Everything one drill started, and how to undo it.

    ``root`` holds the log files (keep it: pytest's ``tmp_path`` is retained after a
    failure, so the full logs stay there).
    """

    root: Path
    processes: list[ManagedProcess] = field(default_factory=list)
    _undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _names: dict[str, int] = field(default_factory=dict)

    def defer(self, label: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` at cleanup (last deferred, first run)."""
        self._undo.append((label, fn))

    def cleanup(self) -> list[str]:
        """Undo everything; returns the problems met (never raises)."""
        problems = []
        while self._undo:
            label, fn = self._undo.pop()
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - clean up the rest regardless
                problems.append(f"{label}: {exc!r}")
        return problems

    def log_path(self, name: str) -> Path:
        n = self._names[name] = self._names.get(name, 0) + 1
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / (f"{name}.log" if n == 1 else f"{name}-{n}.log")

    def spawn(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> ManagedProcess:
        """Start ``argv`` in a new session, output to ``<root>/<name>.log``; stopped at cleanup."""
        log_path = self.log_path(name)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = ManagedProcess(name, list(argv), popen, log_path)
        self.processes.append(process)
        self.defer(f"stop {name} (pid {popen.pid})", process.stop)
        return process

    def report(self, lines: int = 40) -> str:
        """The tail of every process log, for a failure message."""
        parts = [f"(full logs in {self.root})"]
        for process in self.processes:
            state = "running" if process.alive() else f"exited {process.popen.returncode}"
            parts.append(f"--- {process.log_path.name} [{state}] ---\n{process.log_tail(lines)}")
        return "\n".join(parts)


# --- Redis --------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A private, non-persistent redis-server that a drill may stop and start again."""

    lab: Lab
    port: int
    process: ManagedProcess | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        argv = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.lab.root),
            "--daemonize",
            "no",
        ]
        self.process = self.lab.spawn("redis", argv, env=dict(os.environ))
        wait_until(
            self.ping, timeout=10, what=f"redis-server on port {self.port}", diagnostics=self.lab.report
        )
        return self

    def ping(self) -> bool:
        try:
            with Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5) as conn:
                return bool(conn.ping())
        except Exception:  # noqa: BLE001 - any failure means "not up"
            return False

    def stop(self, *, crash: bool = False) -> None:
        """Stop it (``crash``: ``kill -9``; else SIGTERM). Nothing is saved either way."""
        if self.process is None:
            return
        if crash:
            self.process.kill()
        else:
            self.process.stop()
        self.process = None
        wait_until(lambda: not port_open(self.port), timeout=10, what=f"port {self.port} to close")

    def restart(self) -> RedisServer:
        self.stop()
        return self.start()


def start_redis(lab: Lab, port: int | None = None) -> RedisServer:
    """A private redis-server on a free loopback port (``--save "" --appendonly no``)."""
    return RedisServer(lab, port or free_port()).start()


# --- PostgreSQL -------------------------------------------------------------------------------


def _admin_execute(admin_url: str, *statements: tuple[str, tuple]) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        for sql, params in statements:
            conn.execute(sql, params)


def _with_database(url: str, name: str) -> str:
    base, _slash, _old = url.rpartition("/")
    return f"{base}/{name}"


def create_database(lab: Lab, admin_url: str = SHARED_PG_ADMIN_URL, prefix: str = DB_PREFIX) -> str:
    """A fresh, empty database ``<prefix><random>``, dropped at cleanup; returns its URL
    (``postgresql://...``)."""
    name = f"{prefix}{secrets.token_hex(4)}"
    _admin_execute(admin_url, (f'CREATE DATABASE "{name}"', ()))
    lab.defer(f"drop database {name}", lambda: drop_database(admin_url, name))
    return _with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name``, disconnecting whoever is still connected to it."""
    _admin_execute(
        admin_url,
        (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ),
        (f'DROP DATABASE IF EXISTS "{name}"', ()),
    )


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster (its own data folder and port) a drill may restart.

    PostgreSQL refuses to run as root: its folder belongs to ``postgres`` and every
    server command runs through ``runuser -u postgres``.
    """

    lab: Lab
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str, timeout: float = 60) -> None:
        command = ["runuser", "-u", "postgres", "--", str(PG_BIN / args[0]), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{self.server_log()}"
            )

    def _options(self) -> str:
        # fsync off: a throw-away cluster, and drills restart it often.
        return f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"

    def init(self) -> PostgresCluster:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> None:
        self._pg(
            "pg_ctl", "-D", str(self.data), "-o", self._options(), "-l", str(self.log_file), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._pg(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-o", self._options(), "-l", str(self.log_file),
            "-w", "restart",
        )  # fmt: skip

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, prefix: str = DB_PREFIX) -> str:
        """A fresh database on this cluster; it goes away with the cluster."""
        name = f"{prefix}{secrets.token_hex(4)}"
        _admin_execute(self.admin_url, (f'CREATE DATABASE "{name}"', ()))
        return _with_database(self.admin_url, name)

    def server_log(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_postgres_cluster(lab: Lab, port: int | None = None) -> PostgresCluster:
    """initdb + start a private cluster on a free loopback port; stopped and deleted at
    cleanup. Its folder is outside pytest's ``tmp_path`` (not reachable by ``postgres``)."""
    folder = Path(tempfile.mkdtemp(prefix="revenda-drill-pg-"))
    lab.defer(f"remove {folder}", lambda: shutil.rmtree(folder, ignore_errors=True))
    shutil.chown(folder, "postgres", "postgres")
    cluster = PostgresCluster(lab, folder, port or free_port())

    def _stop() -> None:
        with contextlib.suppress(OSError):
            shutil.copy(cluster.log_file, lab.root / "postgres.log")
        if cluster.running():
            cluster.stop("immediate")

    lab.defer(f"stop the PostgreSQL cluster on port {cluster.port}", _stop)
    cluster.init()
    cluster.start()
    return cluster


def db_scalar(url: str, sql: str, params: tuple | dict = ()):
    """One value from the database at ``url`` (a short connection of its own)."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


def db_rows(url: str, sql: str, params: tuple | dict = ()) -> list[tuple]:
    with psycopg.connect(url, connect_timeout=3) as conn:
        return conn.execute(sql, params).fetchall()


def db_execute(url: str, sql: str, params: tuple | dict = ()) -> int:
    """Run one statement and commit; returns the row count."""
    with psycopg.connect(url, connect_timeout=3) as conn:
        return conn.execute(sql, params).rowcount


# --- the application --------------------------------------------------------------------------


def production_env(
    *,
    database_url: str,
    redis_url: str | None,
    instance_dir: Path,
    smtp_url: str = "smtp://127.0.0.1:1",
    stripe_webhook_secret: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a production process (``APP_ENV=production``) on the given
    services. ``extra`` adds or overrides variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "drill-secret-key-" + secrets.token_hex(8),
            "DATABASE_URL": database_url,
            "SMTP_URL": smtp_url,
            "WHATSAPP_ENCRYPTION_KEY": "drill-whatsapp-key-fixed-32-bytes".ljust(43, "x")[:43] + "=",
            "INSTANCE_DIR": str(instance_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    if stripe_webhook_secret:
        env["STRIPE_WEBHOOK_SECRET"] = stripe_webhook_secret
    env.update(extra)
    return env


def flask_command(lab: Lab, env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run ``flask --app wsgi <args>`` to completion (e.g. ``db upgrade``); returns its output."""
    argv = [str(VENV_BIN / "flask"), "--app", "wsgi", *args]
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    lab.log_path("flask-" + "-".join(args[:2])).write_text(output)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{output[-4000:]}")
    return output


def run_python(
    lab: Lab, env: dict[str, str], source: str, *, name: str = "script", timeout: float = 120
) -> str:
    """Run ``source`` with the venv's Python in a process of its own (the project root as
    working folder, so ``wsgi`` and the packages import); returns its stdout. Setting up
    data through the app this way keeps the test process's own app untouched."""
    argv = [str(VENV_BIN / "python"), "-c", source]
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    lab.log_path(name).write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{name} exited {done.returncode}:\n{(done.stdout + done.stderr)[-4000:]}")
    return done.stdout


@dataclass
class WebServer:
    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_gunicorn(
    lab: Lab, env: dict[str, str], *, workers: int = 2, app: str = "wsgi:app", timeout: float = 30
) -> WebServer:
    """gunicorn on a free loopback port, up when it answers HTTP (any status)."""
    port = free_port()
    argv = [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "--access-logfile",
        "-",
        app,
    ]
    server = WebServer(lab.spawn("gunicorn", argv, env=env), port)

    def answers() -> bool:
        if not server.process.alive():
            raise AssertionError("gunicorn exited\n" + lab.report())
        try:
            requests.get(server.url + "/healthz", timeout=2)
            return True
        except requests.RequestException:
            return False

    wait_until(answers, timeout=timeout, what="gunicorn to answer", diagnostics=lab.report)
    return server


def start_worker(
    lab: Lab,
    env: dict[str, str],
    *,
    with_scheduler: bool = True,
    burst: bool = False,
    queues: tuple[str, ...] = (),
    wait: bool = True,
    timeout: float = 30,
    no_fork: bool = False,
) -> ManagedProcess:
    """``flask --app wsgi worker`` (the Procfile's worker). With ``wait``, return once it
    has registered itself in Redis (it is listening)."""
    argv = [str(VENV_BIN / "flask"), "--app", "wsgi", "worker"]
    if with_scheduler:
        argv.append("--with-scheduler")
    if burst:
        argv.append("--burst")
    if no_fork:
        argv.append("--no-fork")
    argv.extend(queues)
    process = lab.spawn("worker", argv, env=env)
    if wait and not burst:
        wait_until(
            lambda: registered_worker(env["REDIS_URL"], process.pid, exited=not process.alive()),
            timeout=timeout,
            what="the RQ worker to register",
            diagnostics=lab.report,
        )
    return process


def registered_worker(redis_url: str, pid: int, *, exited: bool = False) -> bool:
    """Whether the RQ worker with main process ``pid`` is registered in Redis."""
    if exited:
        raise AssertionError(f"the worker (pid {pid}) exited")

    with Redis.from_url(redis_url, socket_connect_timeout=1) as conn:
        return any(w.pid == pid for w in Worker.all(connection=conn))


def listening_worker(redis_url: str, pid: int) -> bool:
    """Whether the RQ worker with main process ``pid`` waits for jobs: RQ sets "idle" in
    its loop, after it has installed its signal handlers (a SIGTERM sent between its
    registration and that moment kills it with the default action: exit -15)."""
    with Redis.from_url(redis_url, socket_connect_timeout=1) as conn:
        return any(w.pid == pid and w.get_state() == "idle" for w in Worker.all(connection=conn))


# --- Stripe events -----------------------------------------------------------------------------


def signed_event(payload: dict, secret: str, *, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery of ``payload`` signed as Stripe does; call it
    again for a retry (Stripe signs each attempt afresh)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {
        "Stripe-Signature": stripe_signature(body, secret, at=at),
        "Content-Type": "application/json",
    }


@dataclass
class Delivery:
    """What one webhook delivery attempt got: a status (``None``: no HTTP answer)."""

    event_id: str
    status: int | None
    body: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def deliver(
    session: requests.Session, base_url: str, payload: dict, secret: str, *, timeout: float = 10
) -> Delivery:
    """POST ``payload`` (freshly signed) to ``/webhooks/stripe``; never raises for
    network errors (a refused or reset connection is a failed delivery, as for Stripe)."""
    body, headers = signed_event(payload, secret)
    try:
        response = session.post(f"{base_url}/webhooks/stripe", data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return Delivery(payload["id"], None, error=repr(exc))
    return Delivery(payload["id"], response.status_code, response.text)


def deliver_all(
    base_url: str, payloads: list[dict], secret: str, *, threads: int = 8, timeout: float = 10
) -> list[Delivery]:
    """Deliver every payload once, ``threads`` at a time; results in payload order."""
    local = threading.local()
    sessions: list[requests.Session] = []

    def one(payload: dict) -> Delivery:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        return deliver(local.session, base_url, payload, secret, timeout=timeout)

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, payloads))
    finally:
        for session in sessions:
            session.close()


# --- RQ ------------------------------------------------------------------------------------------


def redis_connection(redis_url: str):
    return Redis.from_url(redis_url, socket_connect_timeout=2)


def started_jobs(redis_url: str) -> dict[str, list[str]]:
    """Per queue, the ids of the jobs RQ believes are running (its started registries)."""

    with redis_connection(redis_url) as conn:
        found = {}
        for queue in Queue.all(connection=conn):
            registry = StartedJobRegistry(queue.name, connection=conn)
            members = conn.zrange(registry.key, 0, -1)
            if members:
                found[queue.name] = [registry.parse_job_id(m.decode()) for m in members]
        return found


def lapse_dead_worker_leases(redis_url: str) -> dict[str, int]:
    """Fast-forward what RQ waits out after a worker was killed without a word.

    A dead worker leaves its scheduler's per-queue locks (they lapse 61 s after its last
    heartbeat; until then a new worker runs no scheduler) and the executions of the jobs
    it was running (they count as abandoned 60-90 s after the last heartbeat; a new
    worker's start-up clean-up only handles abandoned ones). This deletes the former
    and backdates the latter, which is what waiting about 90 s would do. Call it only
    when no worker is alive.
    """

    with redis_connection(redis_url) as conn:
        # Every queue the dead worker listened to, used or not: scan for the keys.
        locks = sum(conn.delete(key) for key in conn.scan_iter(RQScheduler.get_locking_key("*")))
        executions = 0
        for key in conn.scan_iter(StartedJobRegistry("*", connection=conn).key):
            members = conn.zrange(key, 0, -1)
            if members:
                executions += conn.zadd(key, dict.fromkeys(members, 1), xx=True, ch=True)
        return {"scheduler_locks": locks, "executions": executions}


def queues_quiet(redis_url: str) -> bool:
    """No job waiting, scheduled (a retry's delay) or running on any queue, the periodic
    sweeps aside: what a new worker took over from a dead one has run to its end."""

    with redis_connection(redis_url) as conn:
        for queue in Queue.all(connection=conn):
            ids = [
                *queue.get_job_ids(),
                *StartedJobRegistry(queue.name, connection=conn).get_job_ids(),
                *ScheduledJobRegistry(queue.name, connection=conn).get_job_ids(),
            ]
            if any(not job_id.startswith("periodic-") for job_id in ids):
                return False
        return True


def job_status(redis_url: str, job_id: str) -> str | None:
    """The status of an RQ job (``None`` when Redis no longer knows it)."""

    with redis_connection(redis_url) as conn:
        try:
            return str(Job.fetch(job_id, connection=conn).get_status())
        except NoSuchJobError:
            return None


def queues_idle(redis_url: str) -> bool:
    """No job waiting or running in any queue (scheduled ones do not count)."""

    with redis_connection(redis_url) as conn:
        return all(queue.count == 0 for queue in Queue.all(connection=conn)) and not started_jobs(redis_url)

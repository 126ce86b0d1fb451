"""Fixtures: one schema per run (built by the migrations), each test in a rolled-back
transaction, real SMTP (aiosmtpd), real Redis on its own database number.

The database comes from ``TEST_DATABASE_URL`` (``sqlite`` or unset: a SQLite file;
otherwise a PostgreSQL URL whose database is created when missing).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

os.environ["APP_ENV"] = "testing"

import psycopg
import stripe
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FSASession  # noqa: E402
from redis import Redis
from rq import SimpleWorker
from sqlalchemy.engine import make_url

from billing.stripe.inbox import sweep
from core import create_app  # noqa: E402
from core.extensions import db, limiter  # noqa: E402
from core.jobs import QUEUES, forget_waiting, get_redis
from core.live import get_bus
from core.scope import bypass
from desk import sla_calendars
from tests.factories import Factory
from tests.meta_fake import fake_meta, guard_meta  # noqa: F401 - fake_meta is a fixture
from tests.stripe_fake import FakeStripe

TMP = Path(tempfile.mkdtemp(prefix="revenda-tests-"))


def pytest_collection_modifyitems(config, items):
    """``TEST_SHARD=k/n``: keep the k-th of n shares of the test files (whole files,
    balanced by their number of tests), so n processes with their own databases run
    the suite together (``tests/run_suites.py``)."""
    shard = os.environ.get("TEST_SHARD")
    if not shard:
        return
    index, count = (int(part) for part in shard.split("/"))
    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::")[0], []).append(item)
    loads, owner = [0] * count, {}
    for name in sorted(by_file, key=lambda n: (-len(by_file[n]), n)):
        lightest = loads.index(min(loads))
        owner[name] = lightest
        loads[lightest] += len(by_file[name])
    kept = [item for item in items if owner[item.nodeid.split("::")[0]] == index - 1]
    removed = [item for item in items if owner[item.nodeid.split("::")[0]] != index - 1]
    if removed:
        config.hook.pytest_deselected(items=removed)
    items[:] = kept


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url == "sqlite":
        return f"sqlite:///{TMP / 'test.sqlite'}"
    return url


def _recreate_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (parsed.database,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


class BoundSession(FSASession):
    """Flask-SQLAlchemy's session, but honouring an explicit connection bind."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


# --- mail: a real SMTP server on loopback -------------------------------------------


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["to"]]


@pytest.fixture(scope="session")
def smtp_server():
    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            msg = message_from_bytes(envelope.content, policy=policy.default)
            with box.lock:
                box.messages.append(
                    {
                        "to": envelope.rcpt_tos,
                        "from": envelope.mail_from,
                        "subject": str(msg["subject"]),
                        "text": msg.get_body(("plain",)).get_content(),
                        "html": html.get_content() if (html := msg.get_body(("html",))) else None,
                        "from_header": str(msg["from"]),
                        "reply_to": str(msg["reply-to"] or ""),
                        "raw": envelope.content,
                    }
                )
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield box, f"smtp://127.0.0.1:{port}"
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    box, _url = smtp_server
    box.clear()
    return box


# --- the application ----------------------------------------------------------------


STRIPE_WEBHOOK_SECRET = "whsec_test_only_secret"
MAIL_INBOUND_SECRET = "mail_inbound_test_only_secret"


@pytest.fixture(scope="session")
def app(smtp_server):
    _box, smtp_url = smtp_server
    url = _database_url()
    redis_url = os.environ.get("TEST_REDIS_URL") or None
    if url.startswith("postgresql"):
        _recreate_postgres(url)
    config = {
        "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SMTP_URL": smtp_url,
        "OUTBOX_DIR": str(TMP / "outbox"),
        "EXPORT_DIR": str(TMP / "exports"),
        "UPLOAD_DIR": str(TMP / "uploads"),
        "STORAGE_DIR": str(TMP / "storage"),
        "DEFAULT_RESELLER_HOST": "a.test",
        "EXPORT_SYNC_MAX_ROWS": 50,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "MAIL_INBOUND_SECRET": MAIL_INBOUND_SECRET,
    }
    if url.startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"check_same_thread": False}}
    application = create_app(config)
    with application.app_context():
        upgrade()
    _guard_stripe(application)
    guard_meta(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def _guard_stripe(application) -> None:
    """The app's Stripe HTTP client (billing.stripe.gateway.http_client, the only way
    out to Stripe) and the library's global default both refuse to connect."""

    class NoNetwork(stripe.HTTPClient):
        name = "no-network-guard"

        def request(self, method, url, headers, post_data=None, *, _usage=None):
            raise AssertionError(f"a test tried to reach Stripe: {method} {url}")

        def close(self):
            pass

    guard = NoNetwork()
    application.extensions["stripe_http_client"] = guard
    stripe.default_http_client = guard


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Each test runs in a transaction rolled back at its end (commits are savepoints)."""
    if request.node.get_closest_marker("real_commits"):
        yield
        return
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": BoundSession}
    )
    try:
        yield
    finally:
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _tenancy_bypass():
    """The test's own set-up and assertions see every reseller (named bypass "tests");
    its requests and jobs still run in their own scope (core.scope)."""

    with bypass("tests"):
        yield


@pytest.fixture(autouse=True)
def _clean_storage(app):
    """Stored files (attachments...) outlive a rolled-back transaction: gone after each test,
    or a later test reusing the same ids (SQLite reuses them) would find them."""
    yield
    shutil.rmtree(app.config["STORAGE_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _forget_kept_calendars():
    """Calendars kept by the process (desk.sla_calendars) die with the test's rollback:
    a later test may reuse their ids."""
    yield
    sla_calendars.forget()


@pytest.fixture(autouse=True)
def _clean_redis(app):
    """Redis emptied before and after each test, with what the process remembers of it."""

    url = app.config.get("REDIS_URL")
    forget_waiting(app)
    if url:
        conn = Redis.from_url(url)
        conn.flushdb()
        yield
        conn.flushdb()
        conn.close()
    else:
        yield
    forget_waiting(app)
    get_bus(app).forget()
    limiter.reset()


@pytest.fixture
def ctx(app):
    """An application context for factories and direct service calls."""
    with app.app_context():
        yield


@pytest.fixture
def run_jobs(app):
    """Process queued RQ jobs now (PostgreSQL+Redis suite); in-process jobs already ran."""

    def _run() -> None:
        if not app.config.get("REDIS_URL"):
            return

        with app.app_context():
            worker = SimpleWorker(list(QUEUES), connection=get_redis(app))
            worker.work(burst=True)

    return _run


@pytest.fixture
def settle(app, run_jobs):
    """Let queued Stripe jobs run (RQ in the PostgreSQL suite), then the sweeper.

    On SQLite the in-process job shares the test's connection and its writes are
    rolled back with the request's savepoint, so there the sweeper does the work.
    """

    def _settle() -> None:
        run_jobs()
        with app.app_context():
            sweep(older_than=timedelta(0))

    return _settle


@pytest.fixture
def fake_stripe(app):
    """Stripe's servers, faked at the HTTP boundary, with an API key configured."""

    fake = FakeStripe()
    guard = app.extensions["stripe_http_client"]
    app.config["STRIPE_API_KEY"] = "sk_test_only_key"
    app.extensions["stripe_http_client"] = fake
    yield fake
    app.config["STRIPE_API_KEY"] = None
    app.extensions["stripe_http_client"] = guard


# --- factories ----------------------------------------------------------------------

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def factory(app):
    return Factory(app, password=PASSWORD)


@pytest.fixture
def tenants(factory):
    """Two resellers, A (host a.test) and B (host b.test), each with an owner and clients."""
    return factory.two_tenants()


# --- HTTP -------------------------------------------------------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Browser:
    """A test client with helpers: CSRF token, log in, post forms."""

    def __init__(self, app, host: str = "a.test"):
        self.app = app
        self.host = host
        self.http = app.test_client()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def get(self, path: str, **kw):
        return self.http.get(self.url(path), **kw)

    def csrf(self) -> str:
        page = self.http.get(self.url("/login"))
        if page.status_code == 302:
            page = self.http.get(self.url("/dev/outbox"))
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post(self, path: str, data=None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        return self.http.post(self.url(path), data=data, **kw)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response


@pytest.fixture
def browser(app):
    return Browser(app)


@pytest.fixture
def make_browser(app):
    return lambda host="a.test": Browser(app, host)


@pytest.fixture
def runner_app(app):
    return app.test_cli_runner()

"""Application factory and the pieces every domain package shares."""

from __future__ import annotations

import importlib
import logging

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from sqlalchemy import event

from core import transactions, uploads, validation
from core.config import BASE_DIR, load_settings
from core.extensions import babel, csrf, db, limiter, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    settings = load_settings(config)
    app = Flask(
        __name__,
        static_folder=str(BASE_DIR / "static"),
        template_folder="templates",
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_mapping(settings.as_dict())
    app.config["RATELIMIT_STORAGE_URI"] = settings.RATELIMIT_STORAGE_URI
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(BASE_DIR / "translations")
    # Before any route exists: every <int:...> id is bounded to the database's integer.
    app.url_map.converters["int"] = validation.IdConverter
    if app.config["APP_ENV"] != "testing":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    with app.app_context():
        _tune_engine(db.engine)

    # Registered after Flask-SQLAlchemy's, so it runs first (teardowns run in reverse):
    # a transaction that only read ends with COMMIT and keeps the prepared statements.
    @app.teardown_appcontext
    def _end_read_only_transaction(exc):
        if exc is None and db.session.registry.has():
            transactions.commit_if_read_only(db.session())

    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    from core.tenancy import load_request_reseller

    # The reseller first: a request refused by the CSRF check still gets its
    # reseller's page (core.resubmit), not an anonymous one.
    app.before_request(load_request_reseller)
    # A view that takes attachments gets its larger body limit before the CSRF check
    # reads the form (core.uploads.accepts_uploads).
    app.before_request(uploads.raise_body_limit)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "America/Sao_Paulo")
    limiter.init_app(app)

    from core import audit, cli, formatting, jobs, live, mail, storage, views

    audit.init_app(app)
    jobs.init_app(app)
    live.init_app(app)
    mail.init_app(app)
    storage.init_app(app)
    # Right after the reseller is known (the 400 page is branded), before any view or
    # domain hook reads the request's text.
    app.before_request(validation.refuse_nul_bytes)
    views.init_app(app)
    formatting.init_app(app)
    cli.init_app(app)

    # Then the seed data (its ``seed`` commands), which sits above every domain package.
    for name in (*app.config["INSTALLED_MODULES"], "seeds"):
        importlib.import_module(name).init_app(app)
    jobs.start_inprocess_periodic(app)  # the demo's sweeps, when there is no Redis

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    return app


def _select_locale() -> str:
    supported = ["pt_BR", "en"]
    # The API's paths (``app.extensions["api_prefixes"]``, set by the api package) answer
    # programs, in English unless the request asks for Portuguese; no session reaches them.
    if request and request.path.startswith(current_app.extensions.get("api_prefixes", ())):
        for language, _quality in request.accept_languages:  # the most wanted first
            primary = language.lower().split("-")[0]
            if primary in ("pt", "en"):
                return "pt_BR" if primary == "pt" else "en"
        return "en"
    chosen = session.get("lang") if request else None
    if chosen in supported:
        return chosen
    best = request.accept_languages.best_match(["pt-BR", "pt", "en"]) if request else None
    if best and best.startswith("en"):
        return "en"
    return "pt_BR"


def _tune_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    # pysqlite's own transaction handling breaks SAVEPOINT and FOR UPDATE semantics;
    # take over BEGIN ourselves (SQLAlchemy's documented recipe) and enforce FKs.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _request_may_write() else "BEGIN")


# Requests that by contract change nothing (GET never changes state).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _request_may_write() -> bool:
    """Whether this SQLite transaction takes the write lock when it begins.

    A deferred transaction that reads and then writes fails at once with "database is
    locked" when another connection committed in between (WAL's stale snapshot, which
    busy_timeout cannot wait out): six concurrent submissions of one login code gave
    five 500s. So a request that may write (any method but a read-only one) queues for
    the write lock up front, for up to busy_timeout, and then decides on fresh data
    like PostgreSQL's conditional UPDATEs do. Outside requests (jobs, the CLI, schema
    inspection) transactions stay deferred, so that readers never wait on a writer.
    """
    return has_request_context() and request.method not in READ_ONLY_METHODS


__all__ = ["create_app", "db", "g", "get_locale"]

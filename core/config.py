"""Settings from the environment, one typed object per environment.

``APP_ENV`` picks the profile: ``demo`` (the default: SQLite, outbox mail, relaxed
cookies), ``testing`` (the suite) or ``production`` (refuses to start without its
secrets).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not hold what this profile needs."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """Everything the application reads from its environment."""

    APP_ENV: str
    SECRET_KEY: str
    SQLALCHEMY_DATABASE_URI: str
    REDIS_URL: str | None
    SMTP_URL: str | None
    MAIL_FROM: str
    OUTBOX_DIR: str
    EXPORT_DIR: str
    UPLOAD_DIR: str
    STRIPE_API_KEY: str | None
    STRIPE_WEBHOOK_SECRET: str | None
    # The inbound mail webhook's HMAC secret (intake.signatures); blank: it refuses all.
    MAIL_INBOUND_SECRET: str | None
    # The Fernet key (32 url-safe base64 bytes) that seals the WhatsApp channels' access
    # tokens and app secrets at rest (whatsapp.sealing). Required in production; the demo
    # and the suite derive a fixed one from their SECRET_KEY.
    WHATSAPP_ENCRYPTION_KEY: str | None
    DEFAULT_RESELLER_HOST: str | None
    SESSION_COOKIE_SECURE: bool
    # On PostgreSQL, the role each transaction switches to: it owns no table, so the
    # row-level security policies of migration 0011 apply (see core.scope). Blank: none.
    DATABASE_RUNTIME_ROLE: str | None = "revenda_app"
    # A Pwned Passwords range API (or a mirror), e.g. https://host/range/: new passwords
    # are also checked there by SHA-1 prefix; blank: the local breached list only.
    PWNED_PASSWORDS_URL: str | None = None
    # Werkzeug's password hash method. The suite alone lowers scrypt's cost (n=2**10
    # instead of 2**15): it hashes and checks thousands of passwords, none of them real.
    PASSWORD_HASH_METHOD: str = "scrypt"  # noqa: S105 - a method name, not a password
    # The platform's own domain: a reseller's subdomain of it needs no DNS record of its
    # own. Custom domains point a CNAME at PLATFORM_CNAME_TARGET (blank: the reseller's
    # platform subdomain). See reseller.hosts.
    PLATFORM_DOMAIN: str | None = None
    PLATFORM_CNAME_TARGET: str | None = None
    # Scheme of a new reseller's canonical URL (e-mailed links): HTTPS in production.
    PREFERRED_URL_SCHEME: str = "http"
    # Exports above this many rows run as a background job with a progress bar.
    EXPORT_SYNC_MAX_ROWS: int = 5000
    CLIENTS_PER_PAGE: int = 25
    # Reverse proxies in front of the app (load balancer, router): their X-Forwarded-*
    # headers are believed for this many hops, so client IPs (rate limits, audit) and
    # the scheme are the real ones. 0 trusts none: a client could forge them otherwise.
    PROXY_HOPS: int = 0
    # A deleted client stays recoverable this long, then its purge starts; the purge
    # must end within the 48 hours promised to staff (SPEC "Clients", Delete).
    CLIENT_PURGE_DELAY_HOURS: int = 24
    # Rows per DELETE statement (and per transaction) while purging a client.
    CLIENT_PURGE_BATCH: int = 5000
    # Where ticket attachments (and other stored files) live: "local" (STORAGE_DIR) or
    # "s3" (any S3-compatible service: AWS, MinIO, R2, Backblaze...). See core.storage.
    STORAGE_BACKEND: str = "local"
    STORAGE_DIR: str = ""
    S3_BUCKET: str | None = None
    S3_ENDPOINT_URL: str | None = None
    S3_REGION: str | None = None
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: str | None = None
    # "AES256" or "aws:kms" asks the service to encrypt each object at rest; blank: none.
    S3_SERVER_SIDE_ENCRYPTION: str | None = None
    # "path" (MinIO's usual set-up), "virtual" or "auto"; blank: path with an endpoint URL.
    S3_ADDRESSING_STYLE: str | None = None
    # Where `flask mail-intake` (the SMTP listener, intake.smtp) listens.
    MAIL_INTAKE_HOST: str = "127.0.0.1"
    MAIL_INTAKE_PORT: int = 2525
    # The domain of tickets' reply addresses (reply+<token>@...); its MX points at the
    # intake. Empty: each desk's own address domain (which must then forward reply+*).
    MAIL_REPLY_DOMAIN: str | None = None
    # The authserv-id of the receiving server whose Authentication-Results header the
    # intake trusts (RFC 8601): a message it says failed DMARC has no sender. Empty: none.
    MAIL_AUTHSERV_ID: str | None = None
    # The largest attachment accepted, counted while it streams in (core.uploads).
    ATTACHMENT_MAX_BYTES: int = 25 * 1024 * 1024
    # The workspace's live stream (tenant.views.live): how long one response lasts before
    # the browser reconnects (resuming from its last event), and how often a quiet stream
    # checks its session and sends a heartbeat. The suite's streams end at once unless a
    # test asks for longer (a stream the test client opened would otherwise never end).
    LIVE_STREAM_SECONDS: int = 300
    LIVE_HEARTBEAT_SECONDS: int = 15
    # in-process job mode when REDIS_URL is absent: "thread" (demo) or "sync" (tests)
    INPROCESS_JOBS: str = "thread"
    RATELIMIT_STORAGE_URI: str = "memory://"
    SHOW_DEV_OUTBOX: bool = False
    TESTING: bool = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = field(default_factory=dict)
    SQLALCHEMY_TRACK_MODIFICATIONS: bool = False
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_NAME: str = "rv_session"
    WTF_CSRF_TIME_LIMIT: int | None = None
    BABEL_DEFAULT_LOCALE: str = "pt_BR"
    BABEL_DEFAULT_TIMEZONE: str = "America/Sao_Paulo"
    LANGUAGES: tuple = ("pt_BR", "en")
    MAX_CONTENT_LENGTH: int = 8 * 1024 * 1024
    # Meta's Graph API (WhatsApp Cloud API), version included; the suite fakes it.
    WHATSAPP_GRAPH_URL: str = "https://graph.facebook.com/v21.0"
    INSTALLED_MODULES: tuple = (
        "auth",
        "tenant",
        "billing",
        "desk",
        "intake",
        "portal",
        "reseller",
        "api",
        "whatsapp",
    )

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def load_settings(overrides: dict | None = None) -> Settings:
    """Read the environment into :class:`Settings` for the current ``APP_ENV``."""
    overrides = dict(overrides or {})
    env = overrides.pop("APP_ENV", None) or _env("APP_ENV", "demo")
    if env not in {"demo", "testing", "production"}:
        raise ConfigError(f"APP_ENV must be demo, testing or production, got {env!r}")

    instance = Path(_env("INSTANCE_DIR", str(BASE_DIR / "instance")))
    redis_url = _env("REDIS_URL")
    common = dict(
        APP_ENV=env,
        REDIS_URL=redis_url,
        SMTP_URL=_env("SMTP_URL"),
        MAIL_FROM=_env("MAIL_FROM", "no-reply@localhost"),
        OUTBOX_DIR=_env("OUTBOX_DIR", str(instance / "outbox")),
        EXPORT_DIR=_env("EXPORT_DIR", str(instance / "exports")),
        UPLOAD_DIR=_env("UPLOAD_DIR", str(instance / "uploads")),
        STRIPE_API_KEY=_env("STRIPE_API_KEY"),
        STRIPE_WEBHOOK_SECRET=_env("STRIPE_WEBHOOK_SECRET"),
        MAIL_INBOUND_SECRET=_env("MAIL_INBOUND_SECRET"),
        MAIL_INTAKE_HOST=_env("MAIL_INTAKE_HOST", "127.0.0.1"),
        MAIL_INTAKE_PORT=_env_int("MAIL_INTAKE_PORT", 2525),
        MAIL_REPLY_DOMAIN=(_env("MAIL_REPLY_DOMAIN") or "").strip().lower() or None,
        MAIL_AUTHSERV_ID=(_env("MAIL_AUTHSERV_ID") or "").strip() or None,
        PWNED_PASSWORDS_URL=_env("PWNED_PASSWORDS_URL"),
        WHATSAPP_GRAPH_URL=(_env("WHATSAPP_GRAPH_URL") or "https://graph.facebook.com/v21.0").rstrip("/"),
        PLATFORM_DOMAIN=(_env("PLATFORM_DOMAIN") or "").strip(".").lower() or None,
        PLATFORM_CNAME_TARGET=(_env("PLATFORM_CNAME_TARGET") or "").strip(".").lower() or None,
        EXPORT_SYNC_MAX_ROWS=_env_int("EXPORT_SYNC_MAX_ROWS", 5000),
        CLIENT_PURGE_DELAY_HOURS=_purge_delay_hours(),
        PROXY_HOPS=_env_int("PROXY_HOPS", 0),
        CLIENT_PURGE_BATCH=max(_env_int("CLIENT_PURGE_BATCH", 5000), 1),
        RATELIMIT_STORAGE_URI=redis_url or "memory://",
        DATABASE_RUNTIME_ROLE=os.environ.get("DATABASE_RUNTIME_ROLE", "revenda_app") or None,
        STORAGE_DIR=_env("STORAGE_DIR", str(instance / "storage")),
        LIVE_STREAM_SECONDS=_env_int("LIVE_STREAM_SECONDS", 300),
        LIVE_HEARTBEAT_SECONDS=_env_int("LIVE_HEARTBEAT_SECONDS", 15),
        ATTACHMENT_MAX_BYTES=max(_env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024), 1),
        **_storage_settings(),
    )

    if env == "production":
        missing = [n for n in ("SECRET_KEY", "DATABASE_URL", "SMTP_URL") if not _env(n)]
        if missing:
            raise ConfigError("APP_ENV=production refuses to start without " + ", ".join(missing))
        settings = Settings(
            **common,
            SECRET_KEY=_env("SECRET_KEY"),
            # Without it the platform runs, and no WhatsApp channel can be saved.
            WHATSAPP_ENCRYPTION_KEY=_fernet_key(_env("WHATSAPP_ENCRYPTION_KEY"))
            if _env("WHATSAPP_ENCRYPTION_KEY")
            else None,
            SQLALCHEMY_DATABASE_URI=_normalise_db_url(_env("DATABASE_URL")),
            DEFAULT_RESELLER_HOST=_env("DEFAULT_RESELLER_HOST"),
            SESSION_COOKIE_SECURE=True,
            PREFERRED_URL_SCHEME="https",
        )
    elif env == "testing":
        instance.mkdir(parents=True, exist_ok=True)
        # The suite never reaches a real third party, whatever the shell exports: tests
        # that need Stripe set a key with its servers faked (tests/stripe_fake.py).
        common["STRIPE_API_KEY"] = None
        common["PWNED_PASSWORDS_URL"] = None
        # Nor a real bucket: the S3 backend's tests build their own against a local server.
        common.update(dict.fromkeys(S3_SETTINGS), STORAGE_BACKEND="local")
        common["LIVE_STREAM_SECONDS"] = _env_int("LIVE_STREAM_SECONDS", 0)
        secret_key = _env("SECRET_KEY", "testing-only-secret-key")
        settings = Settings(
            **common,
            SECRET_KEY=secret_key,
            WHATSAPP_ENCRYPTION_KEY=_fernet_key(_env("WHATSAPP_ENCRYPTION_KEY") or _derived_key(secret_key)),
            SQLALCHEMY_DATABASE_URI=_normalise_db_url(
                _env("DATABASE_URL", f"sqlite:///{instance / 'test.sqlite'}")
            ),
            DEFAULT_RESELLER_HOST=_env("DEFAULT_RESELLER_HOST", "default.test"),
            SESSION_COOKIE_SECURE=False,
            INPROCESS_JOBS="sync",
            TESTING=True,
            SHOW_DEV_OUTBOX=True,
            PASSWORD_HASH_METHOD="scrypt:1024:8:1",  # noqa: S106 - a method name
        )
    else:
        # The demo keeps its SQLite file and outbox here; a fresh checkout has no folder yet.
        instance.mkdir(parents=True, exist_ok=True)
        secret_key = _env("SECRET_KEY", "demo-only-secret-key-not-for-production")
        settings = Settings(
            **common,
            SECRET_KEY=secret_key,
            WHATSAPP_ENCRYPTION_KEY=_fernet_key(_env("WHATSAPP_ENCRYPTION_KEY") or _derived_key(secret_key)),
            SQLALCHEMY_DATABASE_URI=_normalise_db_url(
                _env("DATABASE_URL", f"sqlite:///{instance / 'demo.sqlite'}")
            ),
            DEFAULT_RESELLER_HOST=_env("DEFAULT_RESELLER_HOST", "demo.localhost"),
            SESSION_COOKIE_SECURE=_env_bool("SESSION_COOKIE_SECURE", False),
            SHOW_DEV_OUTBOX=True,
        )
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def _derived_key(secret_key: str) -> str:
    """The demo's and the suite's WhatsApp key: fixed for a given SECRET_KEY."""
    digest = hashlib.sha256(b"whatsapp-channels:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _fernet_key(value: str) -> str:
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return value
    except ValueError:
        pass
    raise ConfigError("WHATSAPP_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)")


MAX_PURGE_DELAY_HOURS = 36
# Months a reseller keeps its audit log (resellers.audit_retention_months): at least 6,
# what Brazil's Marco Civil da Internet (art. 15) asks of access records; 12 by default.
MIN_AUDIT_RETENTION_MONTHS = 6
MAX_AUDIT_RETENTION_MONTHS = 120

S3_SETTINGS = (
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_SERVER_SIDE_ENCRYPTION",
    "S3_ADDRESSING_STYLE",
)


def _storage_settings() -> dict:
    backend = (_env("STORAGE_BACKEND", "local") or "").strip().lower()
    if backend not in {"local", "s3"}:
        raise ConfigError(f"STORAGE_BACKEND must be local or s3, got {backend!r}")
    values = {name: _env(name) for name in S3_SETTINGS}
    if backend == "s3" and not values["S3_BUCKET"]:
        raise ConfigError("STORAGE_BACKEND=s3 refuses to start without S3_BUCKET")
    encryption = values["S3_SERVER_SIDE_ENCRYPTION"]
    if encryption not in (None, "AES256", "aws:kms"):
        raise ConfigError(f"S3_SERVER_SIDE_ENCRYPTION must be AES256 or aws:kms, got {encryption!r}")
    style = values["S3_ADDRESSING_STYLE"]
    if style not in (None, "auto", "path", "virtual"):
        raise ConfigError(f"S3_ADDRESSING_STYLE must be auto, path or virtual, got {style!r}")
    return {"STORAGE_BACKEND": backend, **values}


def _purge_delay_hours() -> int:
    hours = _env_int("CLIENT_PURGE_DELAY_HOURS", 24)
    if not 0 <= hours <= MAX_PURGE_DELAY_HOURS:
        # Beyond this the purge could not finish within the 48 hours staff are promised.
        raise ConfigError(
            f"CLIENT_PURGE_DELAY_HOURS must be between 0 and {MAX_PURGE_DELAY_HOURS}, got {hours}"
        )
    return hours


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// go through psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url

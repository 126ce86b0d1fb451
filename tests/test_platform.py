"""Health, configuration, language, security headers, the demo outbox."""

from __future__ import annotations

import pytest
from flask import Flask, request

from billing.stripe import gateway as stripe_gateway
from core import create_app, jobs
from core.access import public, tenantless
from core.config import ConfigError, load_settings


def test_healthz_reports_database_and_redis(browser, app):
    response = browser.get("/healthz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    expected = "ok" if app.config.get("REDIS_URL") else "not configured (in-process jobs)"
    assert checks["redis"] == expected


def test_healthz_answers_503_when_redis_is_unreachable(app, browser):
    saved_url, saved_conn = app.config.get("REDIS_URL"), app.extensions.pop("redis", None)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        response = browser.get("/healthz")
    finally:
        app.config["REDIS_URL"] = saved_url
        app.extensions.pop("redis", None)
        if saved_conn is not None:
            app.extensions["redis"] = saved_conn
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "unavailable"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "SMTP_URL"])
def test_production_refuses_to_start_without_its_secrets(monkeypatch, missing):
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "postgresql://db/app",
        "SMTP_URL": "smtp://mail:25",
        "WHATSAPP_ENCRYPTION_KEY": "a" * 43 + "=",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        load_settings()


def test_production_starts_without_a_whatsapp_key_and_checks_one_it_is_given(monkeypatch):
    for key, value in {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "postgresql://db/app",
        "SMTP_URL": "smtp://mail:25",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WHATSAPP_ENCRYPTION_KEY", raising=False)
    assert load_settings().WHATSAPP_ENCRYPTION_KEY is None
    monkeypatch.setenv("WHATSAPP_ENCRYPTION_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="WHATSAPP_ENCRYPTION_KEY"):
        load_settings()


def test_production_settings_use_secure_cookies_and_hide_the_outbox(monkeypatch):
    for key, value in {
        "APP_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "postgres://db/app",
        "SMTP_URL": "smtp://mail:25",
        "WHATSAPP_ENCRYPTION_KEY": "a" * 43 + "=",
    }.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.SHOW_DEV_OUTBOX is False
    assert settings.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")
    # Werkzeug's full scrypt cost (the suite alone lowers it).
    assert settings.PASSWORD_HASH_METHOD == "scrypt"


def test_demo_is_the_default_profile_with_sqlite(monkeypatch):
    monkeypatch.delenv("APP_ENV")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.APP_ENV == "demo"
    assert settings.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert settings.SESSION_COOKIE_SECURE is False


def test_unknown_app_env_is_refused(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError):
        load_settings()


def test_pages_carry_security_headers(tenants, browser):
    response = browser.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_lax(tenants, browser):
    response = browser.login("owner@a.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_language_defaults_to_portuguese_and_switches_to_english(tenants, browser):
    assert 'lang="pt-BR"' in browser.get("/login").get_data(as_text=True)
    response = browser.post("/lang", {"lang": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert 'lang="en"' in browser.get("/login").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(tenants, browser):
    for target in ("https://evil.example/", "//evil.example/x"):
        response = browser.post("/lang", {"lang": "en", "next": target})
        assert response.headers["Location"] == "/"


def test_unknown_host_falls_back_to_the_default_reseller(tenants, make_browser):
    page = make_browser("unknown.example").get("/login")
    assert page.status_code == 200
    assert "Reseller A" in page.get_data(as_text=True)


def test_each_host_shows_its_own_reseller_brand(tenants, make_browser):
    assert "Reseller B" in make_browser("b.test").get("/login").get_data(as_text=True)
    assert "Reseller A" not in make_browser("b.test").get("/login").get_data(as_text=True)


def test_the_demo_profile_creates_its_instance_folder(monkeypatch, tmp_path):
    target = tmp_path / "fresh" / "instance"
    monkeypatch.setenv("APP_ENV", "demo")
    monkeypatch.setenv("INSTANCE_DIR", str(target))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings()
    assert target.is_dir()
    assert str(target / "demo.sqlite") in settings.SQLALCHEMY_DATABASE_URI


def test_forwarded_headers_are_believed_only_for_the_configured_proxy_hops(monkeypatch):
    def seen_ip(hops: int) -> str:
        monkeypatch.setenv("PROXY_HOPS", str(hops))
        app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        app.add_url_rule("/_ip", "ip", public(tenantless(lambda: request.remote_addr)))
        http = app.test_client()
        answer = http.get(
            "/_ip", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        return answer.get_data(as_text=True)

    assert seen_ip(0) == "10.0.0.1"  # without a proxy in front, a forged header is ignored
    assert seen_ip(1) == "203.0.113.9"  # behind one proxy, the address it saw


def test_the_testing_config_ignores_a_stripe_key_in_the_environment(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_from_a_developers_shell")
    assert load_settings({"APP_ENV": "testing"}).STRIPE_API_KEY is None


def test_every_stripe_call_of_the_app_goes_through_the_guarded_http_client(app):
    """A developer's key in the app's config still reaches no real Stripe: the
    client the app builds uses the one HTTP client the tests replace."""

    app.config["STRIPE_API_KEY"] = "sk_test_pretend_real"
    try:
        with app.app_context(), pytest.raises(AssertionError, match="tried to reach Stripe"):
            stripe_gateway.stripe_client().v1.customers.retrieve("cus_1")
    finally:
        app.config["STRIPE_API_KEY"] = None


def test_what_a_process_saw_waiting_belongs_to_its_app(app):
    """The "drain seen waiting" memory of one app (one Redis) never leaks into
    another app, nor into the next test (the Redis fixture forgets it)."""

    jobs._note_waiting(app, "drain")
    assert jobs._seen_waiting_recently(app, "drain")
    assert not jobs._seen_waiting_recently(Flask("another"), "drain")
    jobs.forget_waiting(app)
    assert not jobs._seen_waiting_recently(app, "drain")


def test_the_layouts_static_links_follow_the_script_root_they_are_served_under(tenants, browser):
    # Kept per script root (core.views.static_url): an app mounted under a prefix links
    # its files under it, and the root app's links stay as they were.
    page = browser.get("/login").get_data(as_text=True)
    assert 'href="/static/app/app.css"' in page and 'src="/static/vendor/htmx/htmx.min.js"' in page
    mounted = browser.get("/login", environ_overrides={"SCRIPT_NAME": "/painel"}).get_data(as_text=True)
    assert 'href="/painel/static/app/app.css"' in mounted and 'src="/painel/static/app/app.js"' in mounted
    assert 'href="/static/app/app.css"' in browser.get("/login").get_data(as_text=True)

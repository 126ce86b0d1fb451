"""The glue auth gives the packages above it: Flask-Login's ``current_user`` backed by
the server-side session, and the home pages registered by reseller and tenant."""

from __future__ import annotations

from flask import g, request_finished
from flask_login import current_user

from auth import access
from auth.models import CLIENT_USER, STAFF


def test_homes_are_the_endpoints_reseller_and_tenant_register(app):
    with app.test_request_context("/", base_url="http://a.test"):
        assert access.page_url(STAFF) == "/reseller/clients"
        assert access.page_url(CLIENT_USER) == "/app/"
        assert access.page_url(STAFF, "client_users", client_id=7) == "/reseller/clients/7/users"
        assert access.area_prefix(STAFF) == "/reseller"
        assert access.home_url_for(None) == "/login"


def test_current_user_is_the_sessions_account(app, tenants, browser):
    browser.login("owner@a.test")
    seen = {}

    def look(sender, response, **extra):
        seen["user"] = current_user._get_current_object()
        seen["account"] = access._get_current_account()
        seen["g"] = g.get("current_account")

    with request_finished.connected_to(look, app):
        assert browser.get("/reseller/clients").status_code == 200
    assert seen["user"] is seen["account"] is seen["g"]
    assert seen["user"].is_authenticated and seen["user"].email == "owner@a.test"


def test_anonymous_is_redirected_to_login_with_next(app, tenants, browser):
    response = browser.get("/reseller/clients?x=1")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=") and "reseller/clients" in location
    assert browser.get("/reseller/clients", headers={"HX-Request": "true"}).status_code == 401

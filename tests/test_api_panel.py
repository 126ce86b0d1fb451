"""The panel's page of API clients (``/reseller/api``, permission *API*): the list, a
new client whose secret is shown once and kept hashed, a second secret (two at most),
a secret revoked, a client deleted with its tokens; audited; pt-BR."""

from __future__ import annotations

import re

from sqlalchemy import select

from api.models import ApiClient, ApiClientSecret
from auth import permissions as perm
from core.extensions import db
from core.models import AuditEvent
from tests.api_setup import Caller, api_client, token, token_response

SECRET = re.compile(r"<code data-secret>([^<]+)</code>")
CLIENT_ID = re.compile(r"<code data-client-id>([^<]+)</code>")


def test_staff_create_a_client_and_see_its_secret_once(app, tenants, browser):
    browser.login("owner@a.test")
    page = browser.get("/reseller/api")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Clientes da API" in html and "Nenhum cliente da API ainda." in html
    created = browser.post("/reseller/api", {"name": "Meu ERP", "scopes": ["clients:read", "clients:write"]})
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    assert "copie agora, ele não será mostrado de novo" in html
    secret = SECRET.search(html).group(1)
    client_id = CLIENT_ID.search(html).group(1)
    assert secret not in browser.get("/reseller/api").get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(ApiClient).where(ApiClient.client_key == client_id))
        assert row.reseller_id == tenants.a.id and row.scopes == ["clients:read", "clients:write"]
        assert row.created_by_label
        stored = db.session.scalar(
            select(ApiClientSecret.secret_hash).where(ApiClientSecret.api_client_id == row.id)
        )
        assert secret not in stored
        assert db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "api_client.created", AuditEvent.object_id == str(row.id)
            )
        )
    assert token_response(app, client_id, secret).status_code == 200


def test_bad_input_is_explained_and_creates_nothing(app, tenants, browser):
    browser.login("owner@a.test")
    refused = browser.post("/reseller/api", {"name": "", "scopes": ["clients:read"]})
    assert refused.status_code == 422
    assert "Campo obrigatório." in refused.get_data(as_text=True)
    unknown = browser.post("/reseller/api", {"name": "X", "scopes": ["clients:destroy"]})
    assert unknown.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(ApiClient).where(ApiClient.reseller_id == tenants.a.id)) is None


def test_a_second_secret_then_no_third_and_a_revoked_one_stops_working(app, tenants, browser):
    client_id, first, row_id = api_client(app, tenants.a.id)
    browser.login("owner@a.test")
    second_page = browser.post(f"/reseller/api/{row_id}/secrets")
    second = SECRET.search(second_page.get_data(as_text=True)).group(1)
    third = browser.post(f"/reseller/api/{row_id}/secrets", follow_redirects=True)
    assert "já tem dois segredos ativos" in third.get_data(as_text=True)
    with app.app_context():
        first_id = db.session.scalar(
            select(ApiClientSecret.id)
            .where(ApiClientSecret.api_client_id == row_id)
            .order_by(ApiClientSecret.id)
        )
    revoked = browser.post(f"/reseller/api/{row_id}/secrets/{first_id}/revoke")
    assert revoked.status_code == 302
    assert token_response(app, client_id, first).status_code == 401
    assert token_response(app, client_id, second).status_code == 200


def test_deleting_a_client_kills_its_tokens(app, tenants, browser):
    client_id, secret, row_id = api_client(app, tenants.a.id)
    access = token(app, client_id, secret)
    browser.login("owner@a.test")
    assert browser.post(f"/reseller/api/{row_id}/delete").status_code == 302
    assert Caller(app, access).get("/api/v1/clients").status_code == 401
    with app.app_context():
        assert db.session.get(ApiClient, row_id) is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_client.deleted"))


def test_the_page_needs_the_api_permission_and_the_menu_shows_it_only_then(
    app, factory, tenants, make_browser
):
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem-api@a.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.API], email="com-api@a.test")
    without = make_browser()
    without.login("sem-api@a.test")
    assert without.get("/reseller/api").status_code == 403
    assert "/reseller/api" not in without.get("/reseller/clients").get_data(as_text=True)
    with_api = make_browser()
    with_api.login("com-api@a.test")
    assert with_api.get("/reseller/api").status_code == 200
    assert 'href="/reseller/api"' in with_api.get("/reseller/clients").get_data(as_text=True)


def test_another_resellers_api_client_is_a_404(app, tenants, browser):
    _client_id, _secret, row_id = api_client(app, tenants.b.id)
    browser.login("owner@a.test")
    assert browser.post(f"/reseller/api/{row_id}/secrets").status_code == 404
    assert browser.post(f"/reseller/api/{row_id}/delete").status_code == 404
    with app.app_context():
        assert db.session.get(ApiClient, row_id) is not None


def test_the_reference_page_loads_the_vendored_redoc_under_the_csp(app, tenants):
    response = app.test_client().get("http://a.test/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/static/vendor/redoc/redoc.standalone.js" in html
    assert "<script>" not in html  # no inline script: the CSP allows 'self' only
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert app.test_client().get("http://a.test/static/vendor/redoc/redoc.standalone.js").status_code == 200

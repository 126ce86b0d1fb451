"""The OAuth2 server of the reseller API (issue 16): client credentials with Basic and
POST authentication, tokens of one hour stored hashed, scopes declared and refused
(``invalid_scope``, never dropped), revocation and introspection, a client of another
reseller unknown, two secrets during a rotation."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from api import credentials, secrets
from api.models import ApiClient, ApiClientSecret, ApiToken
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tests.api_setup import Caller, api_client, basic, token, token_response


def test_a_token_is_issued_with_basic_authentication_for_an_hour_and_stored_hashed(app, tenants):
    client_id, secret, row_id = api_client(app, tenants.a.id, ["clients:read", "clients:write"])
    response = token_response(app, client_id, secret)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "clients:read clients:write"
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        stored = db.session.scalar(select(ApiToken).where(ApiToken.api_client_id == row_id))
        assert stored.token_hash == secrets.digest(body["access_token"])
        assert body["access_token"] not in repr(db.session.execute(select(ApiToken.__table__)).all())
        kept = db.session.scalar(
            select(ApiClientSecret.secret_hash).where(ApiClientSecret.api_client_id == row_id)
        )
        assert kept == secrets.digest(secret) and secret not in kept


def test_a_token_is_issued_with_post_authentication(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    response = app.test_client().post(
        "https://a.test/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "clients:read",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["scope"] == "clients:read"


def test_a_wrong_secret_is_invalid_client_as_a_problem(app, tenants):
    client_id, _secret, _ = api_client(app, tenants.a.id)
    response = token_response(app, client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["error"] == "invalid_client" and body["code"] == "invalid_client"
    assert body["status"] == 401 and body["request_id"]


def test_a_client_of_reseller_a_is_unknown_on_reseller_bs_host(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    response = token_response(app, client_id, secret, host="b.test")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_an_unknown_scope_is_invalid_scope(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    response = token_response(app, client_id, secret, scope="clients:read clients:destroy")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_a_scope_not_granted_is_invalid_scope_not_silently_dropped(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id, ["clients:read"])
    response = token_response(app, client_id, secret, scope="clients:read clients:write")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_no_scope_asked_gives_every_scope_granted(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id, ["users:read", "clients:read"])
    body = token_response(app, client_id, secret).get_json()
    assert body["scope"] == "clients:read users:read"


def test_the_metadata_declares_the_scopes_and_endpoints(app, tenants):
    body = app.test_client().get("https://a.test/.well-known/oauth-authorization-server").get_json()
    assert "impersonate" in body["scopes_supported"] and "audit:read" in body["scopes_supported"]
    assert body["token_endpoint"] == "https://a.test/oauth/token"
    assert body["grant_types_supported"] == ["client_credentials"]


def test_an_expired_token_is_refused(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    access = token(app, client_id, secret)
    caller = Caller(app, access)
    assert caller.get("/api/v1/clients").status_code == 200
    with time_machine.travel(utcnow() + timedelta(seconds=3601), tick=False):
        response = caller.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_token"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_refused_and_introspects_inactive(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    access = token(app, client_id, secret)
    http = app.test_client()
    seen = http.post(
        "https://a.test/oauth/introspect", data={"token": access}, headers=basic(client_id, secret)
    )
    assert seen.get_json()["active"] is True
    assert seen.get_json()["client_id"] == client_id
    revoked = http.post(
        "https://a.test/oauth/revoke", data={"token": access}, headers=basic(client_id, secret)
    )
    assert revoked.status_code == 200
    assert Caller(app, access).get("/api/v1/clients").status_code == 401
    seen = http.post(
        "https://a.test/oauth/introspect", data={"token": access}, headers=basic(client_id, secret)
    )
    assert seen.get_json() == {"active": False}


def test_a_client_introspects_only_its_own_tokens(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id, name="ERP")
    other_id, other_secret, _ = api_client(app, tenants.a.id, name="CRM")
    access = token(app, client_id, secret)
    seen = app.test_client().post(
        "https://a.test/oauth/introspect", data={"token": access}, headers=basic(other_id, other_secret)
    )
    assert seen.get_json() == {"active": False}


def test_two_secrets_both_work_and_a_revoked_one_does_not(app, tenants):
    client_id, first, row_id = api_client(app, tenants.a.id)
    with app.app_context():
        row = db.session.get(ApiClient, row_id)
        second = credentials.add_secret(row)
        db.session.commit()
        first_row = row.active_secrets()[0]
    assert token_response(app, client_id, first).status_code == 200
    assert token_response(app, client_id, second).status_code == 200
    with app.app_context():
        row = db.session.get(ApiClient, row_id)
        credentials.revoke_secret(row, first_row.id)
        db.session.commit()
    assert token_response(app, client_id, first).status_code == 401
    assert token_response(app, client_id, second).status_code == 200


def test_a_token_of_reseller_a_is_unknown_on_reseller_bs_host(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    access = token(app, client_id, secret)
    response = Caller(app, access, host="b.test").get("/api/v1/clients")
    assert response.status_code == 401


def test_oauth_over_plain_http_is_refused_as_a_problem(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    data = {"grant_type": "client_credentials"}
    plain = "http://a.test/oauth/token"
    response = app.test_client().post(plain, data=data, headers=basic(client_id, secret))
    assert response.status_code == 400
    assert response.get_json()["code"] == "insecure_transport"


def test_the_token_endpoint_ignores_a_session_cookie_and_sets_none(app, tenants, browser):
    browser.login("owner@a.test")
    response = browser.http.post("https://a.test/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "Set-Cookie" not in response.headers


def test_wrong_credentials_are_audited_and_throttled_per_address(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    response = token_response(app, client_id, "not-the-secret")
    assert response.status_code == 401
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.token_refused"))
        assert event is not None and event.reseller_id == tenants.a.id
        assert event.details["client_id"] == client_id
    for _ in range(19):
        assert token_response(app, client_id, "not-the-secret").status_code == 401
    throttled = token_response(app, client_id, "not-the-secret")
    assert throttled.status_code == 429
    assert throttled.mimetype == "application/problem+json"

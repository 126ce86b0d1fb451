"""``/api/v1/clients`` (issue 16): the panel's filters and sorts with cursor paging,
a single client with its ETag, create (idempotent) and update by the panel's rules,
problems for every refusal, another reseller's client a 404, scopes enforced, a
session cookie worthless, the rate limit per API client."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from core.extensions import db, limiter
from core.models import AuditEvent
from core.timeutil import utcnow
from seeds.documents import make_cnpj
from tenant.models import Client
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None, host="a.test") -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes)
    return Caller(app, token(app, client_id, secret, host=host), host=host)


NEW_CLIENT = {
    "trade_name": "Gama Digital",
    "legal_name": "Gama Digital Ltda",
    "email": "contato@gama.test",
    "document_type": "cnpj",
    "document": make_cnpj(424242),
    "phone": "(11) 98765-4321",
}


def test_the_list_pages_with_a_cursor_in_the_panels_sort(app, factory, tenants):
    for n in range(5):
        factory.client(tenants.a.id, trade_name=f"Cliente {n}")
    api = caller(app, tenants.a.id)
    seen = []
    after = None
    while True:
        query = "?limit=2&sort=trade_name&dir=asc" + (f"&starting_after={after}" if after else "")
        response = api.get("/api/v1/clients" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert len(body["data"]) <= 2
        seen.extend(c["trade_name"] for c in body["data"])
        if not body["has_more"]:
            break
        after = body["data"][-1]["id"]
    assert seen == ["Alpha A", "Cliente 0", "Cliente 1", "Cliente 2", "Cliente 3", "Cliente 4"]
    assert "Beta B" not in seen


def test_the_list_pages_by_a_nullable_column_descending_without_losing_rows(app, factory, tenants):
    for n in range(4):
        factory.client(tenants.a.id, trade_name=f"Sem plano {n}")
    api = caller(app, tenants.a.id)
    ids, after = [], None
    for _ in range(10):
        query = "?limit=1&sort=plan_name&dir=desc" + (f"&starting_after={after}" if after else "")
        body = api.get("/api/v1/clients" + query).get_json()
        ids.extend(c["id"] for c in body["data"])
        if not body["has_more"]:
            break
        after = ids[-1]
    with app.app_context():
        expected = db.session.scalar(
            select(func.count()).where(Client.reseller_id == tenants.a.id, Client.deleted_at.is_(None))
        )
    assert len(ids) == len(set(ids)) == expected


def test_the_lists_filters_are_the_panels_and_a_bad_one_is_a_problem_naming_it(app, factory, tenants):
    factory.client(tenants.a.id, trade_name="Ômega Serviços")
    api = caller(app, tenants.a.id)
    body = api.get("/api/v1/clients?trade_name=omega").get_json()
    assert [c["trade_name"] for c in body["data"]] == ["Ômega Serviços"]
    bad = api.get("/api/v1/clients?created_from=31/12/2026")
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert bad.get_json()["param"] == "created_from"
    assert bad.get_json()["code"] == "invalid_parameter"
    too_many = api.get("/api/v1/clients?limit=101")
    assert too_many.status_code == 422 and too_many.get_json()["param"] == "limit"


def test_one_client_with_its_etag_and_a_304(app, tenants):
    api = caller(app, tenants.a.id)
    response = api.get(f"/api/v1/clients/{tenants.a.client.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["trade_name"] == "Alpha A"
    assert body["created_at"].endswith("Z")
    etag = response.headers["ETag"]
    again = api.get(f"/api/v1/clients/{tenants.a.client.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_another_resellers_client_is_a_404_problem(app, tenants):
    api = caller(app, tenants.a.id)
    response = api.get(f"/api/v1/clients/{tenants.b.client.id}")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    patched = api.patch(f"/api/v1/clients/{tenants.b.client.id}", json={"trade_name": "Roubado"})
    assert patched.status_code == 404
    with app.app_context():
        assert db.session.get(Client, tenants.b.client.id).trade_name == "Beta B"


def test_create_uses_the_panels_rules_and_is_audited_with_the_api_client(app, tenants):
    api = caller(app, tenants.a.id)
    response = api.post("/api/v1/clients", json=NEW_CLIENT)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["phone"] == "+5511987654321"
    assert response.headers["Location"].endswith(f"/api/v1/clients/{body['id']}")
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "client.created", AuditEvent.client_id == body["id"]
            )
        )
        assert event.actor_label == "ERP" and event.actor_account_id is None
    bad = api.post("/api/v1/clients", json={**NEW_CLIENT, "document": "11111111111111"})
    assert bad.status_code == 422
    assert bad.get_json()["param"] == "document"
    assert "CNPJ" in bad.get_json()["detail"]


def test_a_field_outside_the_form_is_refused(app, tenants):
    api = caller(app, tenants.a.id)
    response = api.post("/api/v1/clients", json={**NEW_CLIENT, "reseller_id": tenants.b.id})
    assert response.status_code == 422
    assert response.get_json()["param"] == "reseller_id"


def test_an_idempotent_post_replays_and_a_reused_key_with_another_body_is_422(app, tenants):
    api = caller(app, tenants.a.id)
    key = {"Idempotency-Key": "pedido-123"}
    first = api.post("/api/v1/clients", json=NEW_CLIENT, headers=key)
    assert first.status_code == 201
    again = api.post("/api/v1/clients", json=NEW_CLIENT, headers=key)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        made = db.session.scalar(
            select(func.count()).where(
                Client.reseller_id == tenants.a.id, Client.trade_name == "Gama Digital"
            )
        )
    assert made == 1
    other = api.post("/api/v1/clients", json={**NEW_CLIENT, "trade_name": "Outro"}, headers=key)
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


def test_an_idempotency_key_is_kept_24_hours(app, tenants):
    client_id, secret, _ = api_client(app, tenants.a.id)
    key = {"Idempotency-Key": "pedido-24h"}
    first = Caller(app, token(app, client_id, secret)).post("/api/v1/clients", json=NEW_CLIENT, headers=key)
    assert first.status_code == 201
    with time_machine.travel(utcnow() + timedelta(hours=24, minutes=1), tick=False):
        api = Caller(app, token(app, client_id, secret))
        later = api.post("/api/v1/clients", json={**NEW_CLIENT, "trade_name": "Outra Gama"}, headers=key)
    assert later.status_code == 201, later.get_data(as_text=True)
    assert "Idempotent-Replayed" not in later.headers
    assert later.get_json()["id"] != first.get_json()["id"]


def test_update_changes_only_the_fields_given(app, tenants):
    api = caller(app, tenants.a.id)
    response = api.patch(f"/api/v1/clients/{tenants.a.client.id}", json={"city": "Campinas"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["city"] == "Campinas"
    assert response.get_json()["trade_name"] == "Alpha A"
    bad = api.patch(f"/api/v1/clients/{tenants.a.client.id}", json={"email": "não é e-mail"})
    assert bad.status_code == 422 and bad.get_json()["param"] == "email"


def test_a_route_needs_its_scope(app, tenants):
    api = caller(app, tenants.a.id, ["clients:read"])
    response = api.post("/api/v1/clients", json=NEW_CLIENT)
    assert response.status_code == 403
    assert response.get_json()["code"] == "insufficient_scope"
    other = caller(app, tenants.a.id, ["users:read"])
    assert other.get("/api/v1/clients").status_code == 403


def test_a_session_cookie_never_authenticates_an_api_call(app, tenants, browser):
    browser.login("owner@a.test")
    response = browser.get("/api/v1/clients")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "invalid_token"


def test_the_rate_limit_per_api_client_answers_429_with_its_headers(app, tenants):
    api = caller(app, tenants.a.id)
    other = caller(app, tenants.a.id)
    app.config["API_RATE_LIMIT"] = "2/minute"
    try:
        first = api.get("/api/v1/clients")
        assert first.headers["RateLimit-Limit"] == "2"
        assert first.headers["RateLimit-Remaining"] == "1"
        api.get("/api/v1/clients")
        refused = api.get("/api/v1/clients")
        assert refused.status_code == 429
        assert refused.get_json()["code"] == "rate_limited"
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert int(refused.headers["RateLimit-Reset"]) >= 0
        assert "Retry-After" in refused.headers
        # Another API client has its own window.
        assert other.get("/api/v1/clients").status_code == 200
    finally:
        app.config.pop("API_RATE_LIMIT")


def test_an_unknown_api_path_and_method_are_problems(app, tenants):
    api = caller(app, tenants.a.id)
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = api.call("DELETE", "/api/v1/clients")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "method_not_allowed"


def test_with_rate_limits_switched_off_the_api_still_answers(app, tenants):
    api = caller(app, tenants.a.id)
    limiter_enabled = limiter.enabled
    limiter.enabled = False
    try:
        response = api.get("/api/v1/clients")
    finally:
        limiter.enabled = limiter_enabled
    assert response.status_code == 200 and "RateLimit-Limit" not in response.headers

"""A client's billing through the API (issue 16): the reseller's plans, the
subscription read, changed (``preview=true`` says what the panel's preview says and
changes nothing) and cancelled, invoices and payments listed, a manual payment recorded,
the period's use; the billing rules' refusals as problems; scopes and tenancy."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from billing.models import Payment, Subscription
from core.extensions import db
from core.models import AuditEvent
from tenant.models import Client
from tests.api_setup import Caller, api_client, token

TODAY = datetime(2026, 11, 21, 13, 0)  # 10:00 in São Paulo: 10 of 30 days left


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as coordinates:
        yield coordinates


@pytest.fixture
def plans(factory, tenants):
    basic = factory.plan(tenants.a.id, name="Básico", sessions=100, price_cents=9990)
    pro = factory.plan(tenants.a.id, name="Pro", sessions=300, price_cents=19990)
    return basic, pro


@pytest.fixture
def on_basic(factory, tenants, plans):
    return factory.client(
        tenants.a.id,
        trade_name="Cliente Básico",
        plan_id=plans[0].id,
        payment_status="paid",
        due_date=date(2026, 12, 1),
        consumed=40,
    )


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes)
    return Caller(app, token(app, client_id, secret))


def subscription(app, client_id) -> Subscription:
    with app.app_context():
        sub = db.session.scalar(
            select(Subscription).where(Subscription.client_id == client_id).order_by(Subscription.id.desc())
        )
        db.session.expunge(sub)
        return sub


def payments(app, client_id) -> list[Payment]:
    with app.app_context():
        rows = db.session.scalars(
            select(Payment).where(Payment.client_id == client_id).order_by(Payment.id)
        ).all()
        for p in rows:
            db.session.expunge(p)
        return rows


def test_the_plans_are_the_resellers_only_with_money_in_cents(app, tenants, plans):
    body = caller(app, tenants.a.id, ["billing:read"]).get("/api/v1/plans?limit=2").get_json()
    assert [p["name"] for p in body["data"]] == ["Plano A", "Básico"] and body["has_more"] is True
    assert body["data"][1]["price"] == {"amount": 9990, "currency": "BRL"}
    rest = caller(app, tenants.a.id, ["billing:read"]).get(
        f"/api/v1/plans?starting_after={body['data'][1]['id']}"
    )
    assert [p["name"] for p in rest.get_json()["data"]] == ["Pro"]
    assert "Plano B" not in str(rest.get_json())


def test_the_subscription_with_its_etag_and_none_is_a_404(app, factory, tenants, on_basic, plans):
    api = caller(app, tenants.a.id, ["billing:read"])
    response = api.get(f"/api/v1/clients/{on_basic.id}/subscription")
    assert response.status_code == 200
    body = response.get_json()
    assert body["plan"]["name"] == "Básico" and body["current_period_end"] == "2026-12-01"
    assert (
        api.get(
            f"/api/v1/clients/{on_basic.id}/subscription", headers={"If-None-Match": response.headers["ETag"]}
        ).status_code
        == 304
    )
    bare = factory.client(tenants.a.id)
    missing = api.get(f"/api/v1/clients/{bare.id}/subscription")
    assert missing.status_code == 404 and missing.get_json()["code"] == "no_subscription"


def test_preview_says_what_the_upgrade_does_and_changes_nothing(app, clock, tenants, on_basic, plans):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/clients/{on_basic.id}/subscription/change"
    before = payments(app, on_basic.id)
    preview = api.post(path + "?preview=true", json={"plan_id": plans[1].id, "method": "manual"})
    assert preview.status_code == 200, preview.get_data(as_text=True)
    body = preview.get_json()
    assert body["preview"] is True and body["outcome"] == "upgrade_invoiced"
    assert body["amount"] == {"amount": 3333, "currency": "BRL"} and body["days_left"] == 10
    assert body["credit"]["amount"] == round(9990 * 10 / 30) and body["invoice"] is None
    assert len(payments(app, on_basic.id)) == len(before)
    assert subscription(app, on_basic.id).plan_id == plans[0].id
    done = api.post(path, json={"plan_id": plans[1].id, "method": "manual"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["outcome"] == "upgrade_invoiced"
    invoice = done.get_json()["invoice"]
    assert invoice["amount"] == {"amount": 3333, "currency": "BRL"} and invoice["kind"] == "upgrade"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "billing.plan_changed"))
    assert event.actor_label == "ERP" and event.actor_account_id is None


def test_a_refused_change_is_a_problem_naming_the_input_and_changes_nothing(app, clock, tenants, on_basic):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/clients/{on_basic.id}/subscription/change"
    other = api.post(path, json={"plan_id": tenants.b.plan.id, "method": "manual"})
    assert other.status_code == 422 and other.get_json()["param"] == "plan_id"
    method = api.post(path, json={"plan_id": tenants.a.plan.id, "method": "cheque"})
    assert method.status_code == 422 and method.get_json()["param"] == "method"
    assert "Stripe" in method.get_json()["detail"]
    same = api.post(path, json={"plan_id": on_basic.plan_id, "method": "manual"})
    assert same.status_code == 409 and same.get_json()["code"] == "conflict"
    assert subscription(app, on_basic.id).plan_id == on_basic.plan_id


def test_cancel_now_and_a_bad_when(app, clock, tenants, on_basic):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/clients/{on_basic.id}/subscription/cancel"
    bad = api.post(path, json={"when": "ontem"})
    assert bad.status_code == 422 and bad.get_json()["param"] == "when"
    key = {"Idempotency-Key": "cancela-1"}
    done = api.post(path, json={"when": "now"}, headers=key)
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    assert api.post(path, json={"when": "now"}, headers=key).headers["Idempotent-Replayed"] == "true"
    again = api.post(path, json={"when": "now"})
    assert again.status_code == 409


def test_payments_listed_newest_first_and_a_manual_payment_recorded(app, clock, tenants, on_basic, plans):
    api = caller(app, tenants.a.id)
    api.post(
        f"/api/v1/clients/{on_basic.id}/subscription/change",
        json={"plan_id": plans[1].id, "method": "manual"},
    )
    listed = api.get(f"/api/v1/clients/{on_basic.id}/payments?limit=1")
    body = listed.get_json()
    assert body["has_more"] is True and body["data"][0]["kind"] == "upgrade"
    upgrade = body["data"][0]
    older = api.get(f"/api/v1/clients/{on_basic.id}/payments?starting_after={upgrade['id']}").get_json()
    assert [p["status"] for p in older["data"]] == ["paid"] and older["has_more"] is False
    paid_path = f"/api/v1/clients/{on_basic.id}/payments/{upgrade['id']}/paid"
    bad = api.post(paid_path, json={"method": "bitcoin"})
    assert bad.status_code == 422 and bad.get_json()["param"] == "method"
    done = api.post(paid_path, json={"method": "transfer"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["status"] == "paid" and done.get_json()["paid_at"].endswith("Z")
    assert subscription(app, on_basic.id).plan_id == plans[1].id
    twice = api.post(paid_path, json={"method": "transfer"})
    assert twice.status_code == 409


def test_usage_per_day_of_the_period_and_sessions_remaining(app, clock, tenants, on_basic):
    body = caller(app, tenants.a.id, ["billing:read"]).get(f"/api/v1/clients/{on_basic.id}/usage").get_json()
    assert body["period_start"] == "2026-11-01" and body["period_end"] == "2026-12-01"
    assert [d["day"] for d in body["days"]][0] == "2026-11-01" and body["days"][-1]["day"] == "2026-11-21"
    with app.app_context():
        assert body["sessions_remaining"] == db.session.get(Client, on_basic.id).sessions_remaining
    assert body["sessions_used"] == sum(d["sessions"] for d in body["days"])


def test_scopes_and_another_resellers_objects(app, tenants, on_basic):
    reader = caller(app, tenants.a.id, ["billing:read"])
    refused = reader.post(f"/api/v1/clients/{on_basic.id}/subscription/cancel", json={"when": "now"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    assert caller(app, tenants.a.id, ["clients:read"]).get("/api/v1/plans").status_code == 403
    api = caller(app, tenants.a.id)
    assert api.get(f"/api/v1/clients/{tenants.b.client.id}/payments").status_code == 404
    [b_payment] = payments(app, tenants.b.client.id)
    # B's invoice under A's client: a 404, and it stays as it was.
    answer = api.post(f"/api/v1/clients/{on_basic.id}/payments/{b_payment.id}/paid", json={"method": "cash"})
    assert answer.status_code == 404
    assert payments(app, tenants.b.client.id)[0].status == b_payment.status

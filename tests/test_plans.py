"""The reseller's plans: create, edit, retire (kept on clients), validation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from billing.models import Plan
from billing.plans import parse_brl
from core.extensions import db
from core.models import AuditEvent
from tenant.models import Client


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("199,90", 19990),
        ("1.299,00", 129900),
        ("R$ 49", 4900),
        ("49.90", 4990),
        ("0,5", 50),
        ("abc", None),
        ("1,234", None),
    ],
)
def test_prices_are_read_the_brazilian_way(typed, cents):
    assert parse_brl(typed) == cents


def test_create_edit_retire_and_restore_a_plan(app, owner, tenants):
    created = owner.post(
        "/reseller/plans/new",
        {"name": "Ouro", "price": "1.299,90", "period": "quarterly", "sessions": "3000"},
    )
    assert created.status_code == 302
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.name == "Ouro"))
        assert (plan.reseller_id, plan.price_cents, plan.period, plan.sessions_per_period) == (
            tenants.a.id,
            129990,
            "quarterly",
            3000,
        )
        plan_id = plan.id
    page = owner.get("/reseller/plans").get_data(as_text=True)
    assert "Ouro" in page and "R$\xa01.299,90" in page
    form = owner.get(f"/reseller/plans/{plan_id}/edit").get_data(as_text=True)
    assert 'value="1299,90"' in form
    assert (
        owner.post(
            f"/reseller/plans/{plan_id}/edit",
            {
                "name": "Ouro Plus",
                "price": "1.499,90",
                "period": "quarterly",
                "sessions": "3500",
                "stripe_price_id": "price_1AbCdEf",
            },
        ).status_code
        == 302
    )
    owner.post(f"/reseller/plans/{plan_id}/retire")
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.name == "Ouro Plus" and plan.price_cents == 149990 and plan.retired_at is not None
        assert plan.stripe_price_id == "price_1AbCdEf"
    owner.post(f"/reseller/plans/{plan_id}/restore")
    with app.app_context():
        assert db.session.get(Plan, plan_id).retired_at is None
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(plan_id)))
        )
    assert {"plan.created", "plan.updated", "plan.retired", "plan.restored"} <= actions


def test_a_retired_plan_stays_on_its_clients(app, owner, tenants):
    plan_id = tenants.a.plan.id
    owner.post(f"/reseller/plans/{plan_id}/retire")
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        assert client.plan_id == plan_id and client.status == "active"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Plano A"}, "name"),  # taken
        ({"price": "abc"}, "price"),
        ({"price": "0"}, "price"),
        ({"period": "weekly"}, "period"),
        ({"sessions": "-5"}, "sessions"),
        ({"stripe_price_id": "prod_123"}, "stripe_price_id"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(app, owner, tenants, changes, field):
    before = None
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Plan))
    data = {"name": "Novo", "price": "99,90", "period": "monthly", "sessions": "100", **changes}
    response = owner.post("/reseller/plans/new", data)
    assert response.status_code == 422
    field_id = {"stripe_price_id": "stripe"}.get(field, field)
    assert re.search(rf'is-invalid[^>]*id="plan-{field_id}"', response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == before


def test_plans_need_the_permission_and_stay_in_their_reseller(app, factory, tenants, make_browser, owner):
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem-planos@a.test")
    browser = make_browser()
    browser.login(staff.email)
    assert browser.get("/reseller/plans").status_code == 403
    assert (
        browser.post(
            "/reseller/plans/new", {"name": "X", "price": "1", "period": "monthly", "sessions": "1"}
        ).status_code
        == 403
    )
    assert owner.get(f"/reseller/plans/{tenants.b.plan.id}/edit").status_code == 404
    assert owner.post(f"/reseller/plans/{tenants.b.plan.id}/retire").status_code == 404
    assert "Plano B" not in owner.get("/reseller/plans").get_data(as_text=True)

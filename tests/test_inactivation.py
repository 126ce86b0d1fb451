"""Inactivate / reactivate from the status column: refused with the reasons while
something blocks it, audited, and the inactivated client leaves the default list."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import AuditEvent
from tenant.models import Client


def status_of(app, client_id: int):
    with app.app_context():
        return db.session.get(Client, client_id).inactivated_at


def test_a_client_without_plan_or_open_tickets_is_inactivated_and_reactivated(app, factory, tenants, browser):
    client = factory.client(tenants.a.id, trade_name="Pode Sair")
    browser.login("owner@a.test")
    done = browser.post(f"/reseller/clients/{client.id}/inactivate", follow_redirects=True)
    assert "Pode Sair foi inativado" in done.get_data(as_text=True) or "inativad" in done.get_data(
        as_text=True
    )
    assert status_of(app, client.id) is not None
    assert f'data-client-id="{client.id}"' not in browser.get("/reseller/clients").get_data(as_text=True)
    assert f'data-client-id="{client.id}"' in browser.get("/reseller/clients?status=inactivated").get_data(
        as_text=True
    )
    browser.post(f"/reseller/clients/{client.id}/reactivate")
    assert status_of(app, client.id) is None
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.client_id == client.id).order_by(AuditEvent.id)
        ).all()
    assert actions[-2:] == ["client.inactivated", "client.reactivated"]


def test_open_tickets_and_an_active_plan_block_inactivation_with_the_reasons(app, factory, tenants, browser):
    plan = factory.plan(tenants.a.id, name="Prata")
    blocked = factory.client(tenants.a.id, trade_name="Ocupada", plan_id=plan.id, open_tickets=2)
    browser.login("owner@a.test")
    refused = browser.post(f"/reseller/clients/{blocked.id}/inactivate", follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "Não é possível inativar Ocupada" in text
    assert "2 chamado" in text and "Prata" in text
    assert status_of(app, blocked.id) is None


def test_inactivation_needs_the_clients_permission_and_csrf(app, factory, tenants, make_browser):
    client = factory.client(tenants.a.id, trade_name="Protegida")
    staff = factory.staff(tenants.a.id, permissions=[], email="sem@a.test")
    browser = make_browser()
    browser.login(staff.email)
    assert browser.post(f"/reseller/clients/{client.id}/inactivate").status_code == 403
    owner = make_browser()
    owner.login("owner@a.test")
    assert owner.post(f"/reseller/clients/{client.id}/inactivate", csrf=False).status_code == 400
    assert status_of(app, client.id) is None


def test_the_return_address_stays_on_the_client_list(factory, tenants, browser):
    client = factory.client(tenants.a.id, trade_name="Volta")
    browser.login("owner@a.test")
    response = browser.post(
        f"/reseller/clients/{client.id}/inactivate", {"next": "https://evil.example/phish"}
    )
    assert response.headers["Location"] == "/reseller/clients"
    back = browser.post(f"/reseller/clients/{client.id}/reactivate", {"next": "/reseller/clients?status=all"})
    assert back.headers["Location"] == "/reseller/clients?status=all"

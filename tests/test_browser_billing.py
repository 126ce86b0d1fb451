"""Browser test: staff change a client's plan (upgrade preview through htmx, invoice,
payment recorded, plan switched)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from billing.models import Payment
from core.extensions import db
from core.timeutil import today_local
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_upgrade_a_clients_plan_and_record_its_payment(app, factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    basic = factory.plan(reseller.id, name="Básico", sessions=100, price_cents=9990)
    factory.plan(reseller.id, name="Pro", sessions=300, price_cents=19990)
    client = factory.client(
        reseller.id,
        trade_name="Padaria Central",
        plan_id=basic.id,
        payment_status="paid",
        due_date=today_local() + timedelta(days=12),
    )

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    page.click(f"tr[data-client-id='{client.id}'] [data-row-menu]")  # the row's actions
    page.click(f"tr[data-client-id='{client.id}'] a[href$='/billing']")
    page.wait_for_url(f"**/reseller/clients/{client.id}/billing")
    assert page.locator("#plan-change-form").is_visible()

    # Choosing Pro shows what the upgrade costs before anything is saved.
    page.select_option("#change-plan", label="Pro · R$\xa0199,90 · Mensal")
    page.wait_for_selector("#plan-preview-text")
    preview = page.locator("#plan-preview-text").inner_text()
    assert "Upgrade" in preview and "crédito" in preview
    page.screenshot(path=str(ARTIFACTS / "plan-change-preview.png"), full_page=True)

    page.click("#plan-change-form button")
    page.wait_for_load_state()
    assert "Upgrade faturado" in page.content()
    assert page.locator("#plan-status").inner_text().startswith("Ativo")
    with app.app_context():
        upgrade = db.session.scalar(
            select(Payment).where(Payment.client_id == client.id, Payment.kind == "upgrade")
        )
        assert upgrade is not None and upgrade.status == "pending"
    assert "Básico" in page.locator(".fs-5").first.inner_text()  # not paid yet

    row = page.locator(f"tr[data-payment-id='{upgrade.id}']")
    row.locator("select[name=method]").select_option("transfer")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "Pagamento registrado" in page.content()
    assert "Pro" in page.locator(".fs-5").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "plan-changed.png"), full_page=True)

"""Browser test: a client user's subscription page shows the period's sessions per day
(the chart and, opened without JavaScript, its table), how to pay without Stripe; a
client without a plan sees the reseller's plans and contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from billing.models import Subscription
from core.extensions import db
from core.models import Reseller
from core.timeutil import add_months, today_local
from tenant.inbox_models import Contact, SessionWindow
from tenant.states import WindowSource
from tenant.windows import local_midnight_utc
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_a_client_user_reads_the_period_chart_and_how_to_pay(app, factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Essencial", sessions=50, price_cents=14990)
    factory.plan(reseller.id, name="Pro", sessions=300, price_cents=29990)
    client = factory.client(
        reseller.id, trade_name="Padaria Central", plan_id=plan.id, payment_status="pending"
    )
    bare = factory.client(reseller.id, trade_name="Sem Plano")
    start = today_local() - timedelta(days=9)
    with app.app_context():
        row = db.session.get(Reseller, reseller.id)
        row.support_email, row.support_whatsapp = "financeiro@a.test", "+5511987654321"
        row.extra_pack_conversations, row.extra_pack_price_cents = 100, 4990
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client.id))
        sub.current_period_start, sub.current_period_end = start, add_months(start, 1)
        contact = Contact(
            reseller_id=reseller.id, client_id=client.id, name="Contato", phone="+5511987650000"
        )
        db.session.add(contact)
        db.session.flush()
        for day, count in ((0, 2), (1, 5), (4, 1), (8, 3)):
            for n in range(count):
                at = local_midnight_utc(start + timedelta(days=day)) + timedelta(hours=9 + n)
                db.session.add(
                    SessionWindow(
                        reseller_id=reseller.id,
                        client_id=client.id,
                        contact_id=contact.id,
                        source=WindowSource.PLAN,
                        opened_at=at,
                        expires_at=at + timedelta(hours=24),
                    )
                )
        db.session.commit()

    log_in(page, live_server, client.email, factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/subscription")
    chart = page.locator("#sessions-chart")
    assert chart.is_visible()
    assert page.locator("#sessions-chart g.day").count() == 10
    second = page.locator(f"#sessions-chart g.day[data-day='{(start + timedelta(days=1)).isoformat()}']")
    assert second.get_attribute("aria-label") == f"{start + timedelta(days=1):%d/%m/%Y}: 5 sessões"
    assert "11 sessões abertas desde" in page.locator("#period-sessions").inner_text()
    table = page.locator("#sessions-table table")
    assert not table.is_visible()
    page.click("#sessions-table summary")
    assert table.is_visible() and table.locator("tbody tr").count() == 10
    assert page.locator("#how-to-pay").is_visible()
    assert "financeiro@a.test" in page.locator("#how-to-pay").inner_text()
    assert page.locator(".pay-form").count() == 0
    assert "R$\xa049,90" in page.locator("#extra-packs").inner_text()
    page.screenshot(path=str(ARTIFACTS / "subscription-period.png"), full_page=True)

    page.context.clear_cookies()  # a new visitor
    log_in(page, live_server, bare.email, factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/subscription")
    offered = page.locator("#offered-plans")
    assert offered.is_visible()
    text = offered.inner_text()
    assert "Essencial" in text and "Pro" in text and "R$\xa0299,90" in text
    link = offered.locator("a", has_text="Pedir este plano").first
    assert link.get_attribute("href").startswith("mailto:financeiro@a.test?subject=Plano%20Essencial")
    assert page.locator("#how-to-pay").count() == 0  # nothing to pay yet
    page.screenshot(path=str(ARTIFACTS / "subscription-without-plan.png"), full_page=True)

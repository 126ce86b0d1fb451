"""Browser test: staff open a client's page from the list and go through its tabs
(Resumo with the sessions chart, Dados, Usuários, Cobrança, Histórico)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.suspension import lift_suspension, suspend
from core.extensions import db
from core.timeutil import today_local
from tenant.inbox_models import Contact, Conversation, SessionWindow
from tenant.models import Client
from tenant.states import WindowSource
from tenant.windows import local_midnight_utc
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_open_the_client_page_from_the_list_and_go_through_its_tabs(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional", sessions=300)
    client = factory.client(
        reseller.id,
        trade_name="Padaria São João",
        legal_name="Padaria São João Comércio de Alimentos Ltda",
        plan_id=plan.id,
        payment_status="paid",
        phone="+5511987654321",
        consumed=42,
        extras=15,
    )
    factory.user(client.id, name="Bianca Souza")
    today = today_local()
    with app.app_context():
        contact = Contact(
            reseller_id=reseller.id, client_id=client.id, name="Cliente", phone="+5511900001111"
        )
        db.session.add(contact)
        db.session.flush()
        # Sessions on each of the last days, in a known shape (0 to 6 a day).
        for back in range(30):
            day = today - timedelta(days=back)
            for k in range((back * 7) % 6 + (1 if back % 4 else 0)):
                opened = local_midnight_utc(day) + timedelta(hours=9, minutes=k * 20)
                db.session.add(
                    SessionWindow(
                        reseller_id=reseller.id,
                        client_id=client.id,
                        contact_id=contact.id,
                        source=WindowSource.PLAN,
                        opened_at=opened,
                        expires_at=opened + timedelta(hours=24),
                    )
                )
        db.session.add(Conversation(reseller_id=reseller.id, client_id=client.id, contact_id=contact.id))
        row = db.session.get(Client, client.id)
        suspend(row, "Contrato em revisão")
        lift_suspension(row, "Revisão concluída")
        db.session.commit()

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    page.click(f"tr[data-client-id='{client.id}'] a[data-client-link]")
    page.wait_for_url(f"**/reseller/clients/{client.id}")

    assert page.locator("#client-name").inner_text() == "Padaria São João"
    assert page.locator("#client-tabs .nav-link.active").inner_text().strip() == "Resumo"
    assert page.locator("#report-users").inner_text() == "2"
    bars = page.locator("#sessions-chart g.day")
    assert bars.count() >= 1
    assert page.locator("#sessions-chart rect.bar[height='100.0']").count() >= 1  # the busiest day
    for action in ("edit", "users", "plan", "login-as", "delete"):
        assert page.locator(f"#client-actions [data-action='{action}']").is_visible()
    page.screenshot(path=str(ARTIFACTS / "client-page-summary.png"), full_page=True)

    for tab, label, marker in (
        ("data", "Dados", "#save-client"),
        ("users", "Usuários", "#client-users"),
        ("billing", "Cobrança", "#sessions-remaining"),
        ("history", "Histórico", "#client-history"),
        ("summary", "Resumo", "#client-report"),
    ):
        page.click(f"#client-tabs [data-tab='{tab}']")
        page.wait_for_selector(marker)
        active = page.locator("#client-tabs .nav-link.active")
        assert active.inner_text().strip() == label
        assert page.locator("#client-name").inner_text() == "Padaria São João"
    page.click("#client-tabs [data-tab='users']")
    page.screenshot(path=str(ARTIFACTS / "client-page-users.png"), full_page=True)

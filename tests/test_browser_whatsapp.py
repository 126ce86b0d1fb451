"""The WhatsApp pages in Chromium: the workspace menu's link to the channel settings,
a template with a header and buttons filled in the conversation's form, and the channel
disconnected after the confirmation that says what it does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_browser_live import conversation_for
from tests.test_workspace import set_client
from tests.whatsapp_setup import connect
from whatsapp.models import WhatsAppChannel, WhatsAppTemplate

pytestmark = pytest.mark.browser


def test_a_manager_reaches_the_settings_from_the_menu_fills_a_template_and_disconnects(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    client_id = tenants.a.client.id
    set_client(app, client_id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    connect(app, client_id)
    manager = factory.user(client_id, email="gerente@alpha.test")
    conversation_id = conversation_for(app, client_id, manager.id, "+5511955550001")
    with app.app_context():
        db.session.add(
            WhatsAppTemplate(
                reseller_id=tenants.a.id,
                client_id=client_id,
                name="pedido_enviado",
                language="pt_BR",
                body="Olá {{1}}, seu pedido saiu para entrega.",
                parameters=1,
                header={"format": "TEXT", "text": "Pedido {{1}}", "parameters": 1},
                buttons=[
                    {
                        "index": 0,
                        "type": "URL",
                        "text": "Rastrear",
                        "url": "https://loja.test/r/{{1}}",
                        "dynamic": True,
                    },
                    {"index": 1, "type": "QUICK_REPLY", "text": "Recebi"},
                ],
            )
        )
        db.session.commit()
    log_in(page, live_server, "gerente@alpha.test", factory.password, landing="**/app/**")

    page.goto(f"{live_server}/app/conversations/{conversation_id}")
    form = page.locator("form[data-template='pedido_enviado']")
    form.locator("[name=header_param]").fill("8812")
    form.locator("[name=param_1]").fill("Kerry")
    form.locator("[name=button_0]").fill("8812")
    form.locator("[name=button_1]").fill("RECEBI")
    page.screenshot(path=str(ARTIFACTS / "whatsapp-template-form.png"), full_page=True)

    page.click("a[data-nav=channel]")
    page.wait_for_url("**/app/settings/whatsapp")
    assert page.locator("a[data-nav=channel].active").count() == 1
    page.screenshot(path=str(ARTIFACTS / "whatsapp-settings.png"), full_page=True)
    page.click("#whatsapp-disconnect button[type=submit]")
    page.wait_for_selector("#confirm-modal.show")
    assert page.locator("#confirm-modal-message").inner_text() == (
        "Desconectar o WhatsApp? Mensagens do WhatsApp deixarão de chegar; o histórico fica."
    )
    page.screenshot(path=str(ARTIFACTS / "whatsapp-disconnect-confirm.png"))
    page.click("#confirm-modal-ok")
    toast = page.locator("#toasts .toast[data-level=success]")
    toast.wait_for()
    assert "WhatsApp desconectado" in toast.inner_text()
    assert page.locator("#whatsapp-disconnect").count() == 0
    page.screenshot(path=str(ARTIFACTS / "whatsapp-disconnected.png"), full_page=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WhatsAppChannel)) == 0

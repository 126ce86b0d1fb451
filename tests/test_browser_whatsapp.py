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


def conversation_with_template(app, factory, tenants, **template) -> int:
    """Client A connected to WhatsApp with sessions and this approved template, a manager
    and a conversation of theirs (the window closed): its id."""
    client_id = tenants.a.client.id
    set_client(app, client_id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    connect(app, client_id)
    manager = factory.user(client_id, email="gerente@alpha.test")
    conversation_id = conversation_for(app, client_id, manager.id, "+5511955550001")
    with app.app_context():
        row = WhatsAppTemplate(reseller_id=tenants.a.id, client_id=client_id, language="pt_BR", **template)
        db.session.add(row)
        db.session.commit()
    return conversation_id


def test_a_manager_reaches_the_settings_from_the_menu_fills_a_template_and_disconnects(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    conversation_id = conversation_with_template(
        app,
        factory,
        tenants,
        name="pedido_enviado",
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


def test_a_named_template_is_filled_by_its_labels_and_shown_filled_in(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
    fake_meta,
    run_jobs,
):
    conversation_id = conversation_with_template(
        app,
        factory,
        tenants,
        name="seasonal_promotion",
        body="Use o código {{discount_code}} até {{end_date}}.",
        parameters=2,
        parameter_format="NAMED",
        named_params=[
            {"name": "discount_code", "example": "BF2026"},
            {"name": "end_date", "example": "30 de novembro"},
        ],
        header={
            "format": "TEXT",
            "text": "{{sale_name}} chegou!",
            "parameters": 1,
            "name": "sale_name",
            "example": "Black Friday",
        },
    )
    log_in(page, live_server, "gerente@alpha.test", factory.password, landing="**/app/**")

    page.goto(f"{live_server}/app/conversations/{conversation_id}")
    form = page.locator("form[data-template='seasonal_promotion']")
    assert form.get_by_label("end_date").get_attribute("placeholder") == "30 de novembro"
    form.get_by_label("sale_name").fill("Semana do Cliente")
    form.get_by_label("discount_code").fill("CLIENTE10")
    form.get_by_label("end_date").fill("sexta")
    page.screenshot(path=str(ARTIFACTS / "whatsapp-named-template-form.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.get_by_text("Use o código CLIENTE10 até sexta.").wait_for()
    assert page.get_by_text("Semana do Cliente chegou!").count() >= 1
    run_jobs()  # the PostgreSQL suite's queue; without Redis, a thread after the commit
    for _ in range(50):
        if fake_meta.sends:
            break
        page.wait_for_timeout(100)
    [request] = fake_meta.sends
    assert request["json"]["template"]["components"][0] == {
        "type": "header",
        "parameters": [{"type": "text", "parameter_name": "sale_name", "text": "Semana do Cliente"}],
    }

"""Issue 18 in Chromium: a costly action asks in the page's modal (Cancel has the focus,
Esc cancels, the focus goes back to the button; Confirm submits), and what an action
did is told in a toast, after a page load (a flash) or after a workspace action done
through htmx (the ``HX-Trigger`` header)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tenant.inbox_models import Contact, Conversation
from tenant.models import Client
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_workspace import set_client, set_user

pytestmark = pytest.mark.browser

QUESTION = "Suspender Padaria Pão Quente? Novas conversas serão recusadas."


def suspended(app, client_id: int) -> bool:
    with app.app_context():
        return db.session.get(Client, client_id).suspended


def test_suspending_a_client_asks_in_the_modal_and_a_toast_says_it_was_done(
    app,
    factory,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Padaria Pão Quente")
    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/clients/{client.id}/billing")
    page.wait_for_load_state("load")
    page.fill("#reason", "Pedido do cliente")
    suspend = page.locator("#suspension-form button[data-confirm]")
    modal = page.locator("#confirm-modal")

    # Cancel: the question names the client and the consequence; Cancel has the focus.
    suspend.click()
    modal.wait_for(state="visible")
    assert page.locator("#confirm-modal-message").inner_text() == QUESTION
    assert page.locator("#confirm-modal-ok").inner_text() == "Suspender"
    expect(page.locator("#confirm-modal-cancel")).to_be_focused()
    assert modal.get_attribute("role") == "dialog" and modal.get_attribute("aria-modal") == "true"
    page.screenshot(path=str(ARTIFACTS / "feedback-confirm-modal.png"))
    page.click("#confirm-modal-cancel")
    modal.wait_for(state="hidden")
    expect(suspend).to_be_focused()
    assert not suspended(app, client.id)

    # Esc cancels too, from the keyboard alone: Enter on the focused button asks again.
    page.keyboard.press("Enter")
    modal.wait_for(state="visible")
    expect(page.locator("#confirm-modal-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    modal.wait_for(state="hidden")
    assert not suspended(app, client.id)
    assert page.url.endswith(f"/reseller/clients/{client.id}/billing")

    # Confirm submits the same form once, and the next page tells it in a toast.
    suspend.click()
    modal.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#confirm-modal-ok")
    toast = page.locator("#toasts .toast.show:not(.showing)[role=status]")  # faded in
    toast.wait_for(state="visible")
    assert toast.inner_text().strip() == "Padaria Pão Quente foi suspenso."
    assert page.locator("[data-flash]").count() == 0  # the alert became the toast
    assert page.locator("#suspended").is_visible()
    page.screenshot(path=str(ARTIFACTS / "feedback-toast-suspended.png"))
    assert suspended(app, client.id)


def test_taking_a_conversation_through_htmx_shows_a_toast_without_a_reload(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    client_id = tenants.a.client.id
    set_client(app, client_id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    agent = factory.user(client_id, email="agente@alpha.test", name="Ana Agente")
    set_user(app, agent.id, chat_level=2)
    with app.app_context():
        contact = Contact(
            reseller_id=tenants.a.id, client_id=client_id, name="Cliente Fiel", phone="+5511955550001"
        )
        db.session.add(contact)
        db.session.flush()
        conversation = Conversation(reseller_id=tenants.a.id, client_id=client_id, contact_id=contact.id)
        db.session.add(conversation)
        db.session.commit()
        conversation_id = conversation.id

    log_in(page, live_server, "agente@alpha.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/conversations/{conversation_id}")
    page.wait_for_load_state("load")
    page.evaluate("window.notReloaded = true")
    with page.expect_response(f"**/app/conversations/{conversation_id}/take") as taken:
        page.click("#take-form button")
    assert "toast" in (taken.value.headers.get("hx-trigger") or "")
    toast = page.locator("#toasts .toast.show:not(.showing)[role=status]")  # faded in
    toast.wait_for(state="visible")
    assert toast.inner_text().strip() == "Você assumiu esta conversa."
    # The page's part was swapped: the button is gone, the assignee shown, no reload.
    page.wait_for_selector("#take-form", state="detached")
    assert "Ana Agente" in page.locator("#workspace-body").inner_text()
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(ARTIFACTS / "feedback-toast-workspace.png"))
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).assigned_account_id == agent.id

    # A template message spends a session: ticked, the send asks first, with the balance.
    page.fill("#send-form textarea", "Olá, tudo bem?")
    page.check("#template")
    page.click("#send-form button[type=submit]")
    page.locator("#confirm-modal").wait_for(state="visible")
    assert page.locator("#confirm-modal-message").inner_text() == (
        "Enviar mensagem modelo para Cliente Fiel? Ela reabre a janela de 24 horas e usa 1 sessão; "
        "restam 10 neste período."
    )
    expect(page.locator("#confirm-modal-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("#confirm-modal").wait_for(state="hidden")
    # Not ticked, no question: the window is closed, so the message is refused, in an
    # error toast that stays, and the typed text is kept.
    page.uncheck("#template")
    with page.expect_response(f"**/app/conversations/{conversation_id}/messages"):
        page.click("#send-form button[type=submit]")
    error = page.locator("#toasts .toast[role=alert]")
    error.wait_for(state="visible")
    assert "janela de 24 horas" in error.inner_text()
    assert page.locator("#send-form textarea").input_value() == "Olá, tudo bem?"
    assert page.locator("#confirm-modal").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "feedback-toast-error.png"))
    with app.app_context():
        assert db.session.get(Client, client_id).sessions_consumed == 0


def test_an_htmx_request_with_hx_confirm_asks_in_the_modal_too(
    factory,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    """hx-confirm goes through the same modal: Cancel sends nothing, Confirm sends once."""
    factory.reseller(host="a.test", owner_email="owner@a.test")
    log_in(page, live_server, "owner@a.test", factory.password)
    page.wait_for_load_state("load")
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "probe=1" in r.url else None)
    page.evaluate(
        """() => {
          const b = document.createElement("button");
          b.id = "probe"; b.textContent = "Probe";
          b.setAttribute("hx-get", "/reseller/clients?probe=1");
          b.setAttribute("hx-swap", "none");
          b.setAttribute("hx-confirm", "Ask the probe?");
          document.querySelector("main").prepend(b);
          window.htmx.process(b);
        }"""
    )
    page.click("#probe")
    page.locator("#confirm-modal").wait_for(state="visible")
    assert page.locator("#confirm-modal-message").inner_text() == "Ask the probe?"
    expect(page.locator("#confirm-modal-cancel")).to_be_focused()  # shown
    page.keyboard.press("Escape")
    page.locator("#confirm-modal").wait_for(state="hidden")
    expect(page.locator("#probe")).to_be_focused()
    assert sent == []
    page.click("#probe")
    page.locator("#confirm-modal").wait_for(state="visible")
    with page.expect_request("**/reseller/clients?probe=1"):
        page.click("#confirm-modal-ok")
    assert len(sent) == 1

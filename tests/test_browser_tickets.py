"""Browser test: staff open a ticket for a client from its *Chamados* tab, answer it, put
it on hold (waiting on the client) and resolve it; the queue lists it."""

from __future__ import annotations

import pytest

from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_open_answer_hold_and_resolve_a_ticket(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Padaria São João")
    factory.desk(reseller.id, name="Suporte", client_ids=[client.id])

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    page.goto(f"{live_server}/reseller/clients/{client.id}")
    page.click("#client-tabs a[data-tab='tickets']")
    page.wait_for_url(f"**/reseller/clients/{client.id}/tickets")
    assert page.locator("#client-tabs .nav-link.active").inner_text().strip() == "Chamados"
    page.click("#new-ticket")
    page.fill("#t-subject", "A impressora não imprime")
    page.fill("#t-description", "Desde ontem à tarde.")
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url("**/reseller/tickets/*")
    assert page.locator("#ticket-status").inner_text() == "Novo"

    page.fill("#reply-body", "Pode reiniciar a impressora e nos dizer se voltou?")
    page.click("#reply-send")
    page.wait_for_load_state()
    assert page.locator("#ticket-status").inner_text() == "Em atendimento"
    assert page.locator("[data-entry-kind='public_reply']").count() == 1

    page.select_option("#status-select", label="Aguardando cliente")
    page.click("#status-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#ticket-status").inner_text() == "Aguardando cliente"

    page.select_option("#status-select", label="Resolvido")
    page.click("#status-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#ticket-status").inner_text() == "Resolvido"
    page.screenshot(path=str(ARTIFACTS / "ticket-resolved.png"), full_page=True)

    page.click("nav a[data-nav='tickets']")
    page.wait_for_url("**/reseller/tickets")
    page.select_option("#f-status", "all")
    page.wait_for_selector("tr[data-ticket-id]")
    assert "A impressora não imprime" in page.locator("#ticket-table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "ticket-queue.png"), full_page=True)

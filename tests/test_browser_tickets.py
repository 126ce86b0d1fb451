"""Browser test: staff open a ticket for a client from its *Chamados* tab, answer it, put
it on hold (waiting on the client) and resolve it; the queue lists it."""

from __future__ import annotations

import pytest

from core.extensions import db
from desk import fields
from desk.models import Desk
from desk.states import ClientVisibility
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def owner_and_client(factory):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    return reseller, factory.client(reseller.id, trade_name="Padaria São João")


def log_in_owner(tab, server: str, factory) -> None:
    tab.goto(f"{server}/login")
    tab.fill("#email", "owner@a.test")
    tab.fill("#password", factory.password)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/reseller/clients")


def test_staff_open_answer_hold_and_resolve_a_ticket(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller, client = owner_and_client(factory)
    # Without the client's review: the staff's resolution finishes the ticket at once.
    factory.desk(reseller.id, name="Suporte", client_ids=[client.id], review_timeout_days=None)

    log_in_owner(page, live_server, factory)
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


def test_staff_fill_typed_fields_and_move_a_ticket(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    """The side panel's fields are inputs of their type; the ticket moves to another desk."""
    reseller, client = owner_and_client(factory)
    support = factory.desk(reseller.id, name="Suporte", client_ids=[client.id])
    factory.desk(reseller.id, name="Financeiro", client_ids=[client.id])
    with app.app_context():
        desk = db.session.get(Desk, support.id)
        fields.add_field(desk, "Pedido", "text", required=True, visibility=ClientVisibility.EDITABLE)
        fields.add_field(desk, "Detalhes", "long_text", visibility=ClientVisibility.VISIBLE)
        fields.add_field(desk, "Quantidade", "number")
        fields.add_field(desk, "Entrega", "date")
        fields.add_field(desk, "Canal", "select", "Loja\nSite\nTelefone")
        fields.add_field(desk, "Itens", "multi_select", "Papel\nToner\nCabo")
        fields.add_field(desk, "Urgente", "checkbox")
        db.session.commit()
    ticket = factory.ticket(client.id, desk_id=support.id, subject="Nota fiscal errada")

    log_in_owner(page, live_server, factory)
    # The new-ticket form asks the chosen desk's fields (Financeiro, first by name, has none).
    page.goto(f"{live_server}/reseller/clients/{client.id}/tickets/new")
    assert page.locator("#field-pedido").count() == 0
    page.select_option("#t-desk", label="Suporte")
    page.wait_for_selector("#field-pedido")
    assert page.locator("#field-quantidade").get_attribute("type") == "number"
    page.goto(f"{live_server}/reseller/tickets/{ticket.id}")
    page.fill("#field-pedido", "PED-1234")
    page.fill("#field-quantidade", "3")
    page.fill("#field-entrega", "2026-12-24")
    page.select_option("#field-canal", "Site")
    page.check("#field-itens-1")
    page.check("#field-itens-3")
    page.check("#field-urgente")
    page.click("#fields-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#field-quantidade").input_value() == "3"
    assert page.locator("#field-itens-3").is_checked() and page.locator("#field-urgente").is_checked()
    assert page.locator(".field-event[data-field-event='quantidade']").inner_text() == "Quantidade → 3"
    page.screenshot(path=str(ARTIFACTS / "ticket-fields.png"), full_page=True)

    page.select_option("#desk-select", label="Financeiro")
    page.click("#desk-form button[type=submit]")
    page.wait_for_load_state()
    assert "Suporte → Financeiro" in page.locator("#timeline").inner_text()
    assert page.locator("#field-pedido").count() == 0  # Financeiro asks no fields

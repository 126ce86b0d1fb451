"""Browser test (issue 13, seed 001): staff create a desk, link every client (and every
client created later), then remove one after confirming; the links show on the client's page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from desk.models import Desk, DeskClient
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_create_a_desk_link_all_clients_and_remove_one(app, factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    bakery = factory.client(reseller.id, trade_name="Padaria Central")
    garage = factory.client(reseller.id, trade_name="Oficina do Zé")

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")

    page.click("nav a[href='/reseller/desks']")
    page.wait_for_url("**/reseller/desks")
    page.click("#new-desk")
    page.fill("#name", "Suporte")
    page.fill("#intake_email", "suporte@azul.test")
    page.select_option("#default_priority", "high")
    page.click("#save-desk")
    page.wait_for_url("**/reseller/desks/*/clients")
    assert "Mesa Suporte criada." in page.content()

    page.click("#add-all-button")
    page.check("#include_future")
    page.screenshot(path=str(ARTIFACTS / "desk-add-all.png"), full_page=True)
    page.click("#add-all-form button[type=submit]")
    page.wait_for_selector(f"#linked-clients tr[data-client-id='{garage.id}']")
    assert "2 cliente(s) adicionado(s)." in page.content()
    assert page.locator("#links-new-clients").is_visible()

    page.click(f"#linked-clients tr[data-client-id='{garage.id}'] [data-action=remove]")
    page.click("#confirm-modal-ok")
    page.wait_for_selector("text=Removido com sucesso")
    page.screenshot(path=str(ARTIFACTS / "desk-clients.png"), full_page=True)
    assert page.locator(f"#linked-clients tr[data-client-id='{garage.id}']").count() == 0
    with app.app_context():
        desk = db.session.scalar(select(Desk).where(Desk.reseller_id == reseller.id))
        linked = set(db.session.scalars(select(DeskClient.client_id).where(DeskClient.desk_id == desk.id)))
    assert linked == {bakery.id} and desk.link_new_clients

    page.goto(f"{live_server}/reseller/clients/{bakery.id}")
    assert page.locator("#client-desks", has_text="Suporte").is_visible()

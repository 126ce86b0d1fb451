"""Browser test (issue 15): a client user opens a ticket in the portal on a desk of its
client, with the desk's client field and a file, sees an article suggested as it types
the subject, then replies; a supervisor (*see all the client's tickets*) sees it in its
list while another user of the client sees only its own."""

from __future__ import annotations

import pytest

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from desk.fields import add_field
from desk.models import Desk
from desk.states import ClientVisibility, FieldType
from portal.states import Visibility
from tests.test_browser import ARTIFACTS, live_server, log_in, log_out, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def padaria(factory):
    """Revenda Azul (host a.test, where the live server answers) and its client Padaria
    Central, on a paid plan."""
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional")
    client = factory.client(reseller.id, trade_name="Padaria Central", plan_id=plan.id, payment_status="paid")
    return reseller, client


def portal_users(app, factory, client_id):
    """Ana (the portal), Bia (the portal) and Carla, the supervisor (every ticket)."""
    people = {
        "ana@padaria.test": ("Ana Padeira", [perm.PORTAL]),
        "bia@padaria.test": ("Bia Caixa", [perm.PORTAL]),
        "carla@padaria.test": ("Carla Gerente", [perm.PORTAL, perm.ALL_TICKETS]),
    }
    for email, (name, permissions) in people.items():
        user = factory.user(client_id, email=email, name=name)
        with app.app_context():
            db.session.get(Account, user.id).permissions = permissions
            db.session.commit()


def test_a_client_user_opens_a_ticket_with_a_field_and_a_file_and_a_supervisor_sees_it(
    app,
    factory,
    tmp_path,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller, client = padaria(factory)
    desk = factory.desk(reseller.id, name="Suporte", client_ids=[client.id])
    with app.app_context():
        add_field(
            db.session.get(Desk, desk.id),
            label="Equipamento",
            field_type=FieldType.SELECT,
            options_text="Impressora\nComputador",
            visibility=ClientVisibility.EDITABLE,
            required=True,
        )
        db.session.commit()
    factory.article(reseller.id, "Impressora não imprime", "Desligue e ligue.", Visibility.CLIENTS)
    portal_users(app, factory, client.id)
    receipt = tmp_path / "nota.pdf"
    receipt.write_bytes(b"%PDF-1.4 nota fiscal")

    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/**")
    page.click("#portal-menu")
    page.click("nav a[href='/app/tickets']")
    page.wait_for_url("**/app/tickets")
    assert page.locator("#no-tickets").is_visible()
    page.click("#new-ticket")
    page.wait_for_selector("#ticket-form")
    assert page.locator("#entitled-sla").is_visible()
    page.fill("#t-subject", "Impressora")
    page.wait_for_selector("#kb-suggestions li")
    assert "Impressora não imprime" in page.locator("#kb-suggestions").inner_text()
    page.fill("#t-subject", "Impressora parou de imprimir")
    page.fill("#t-description", "Desde ontem a impressora do caixa não imprime.")
    page.select_option("#field-equipamento", "Impressora")
    page.set_input_files("#t-files", str(receipt))
    page.screenshot(path=str(ARTIFACTS / "portal-ticket-new.png"), full_page=True)
    page.click("#ticket-open")
    page.wait_for_selector("#ticket-header")
    assert "Impressora" in page.locator("#ticket-fields").inner_text()
    assert page.locator("a[data-attachment]").inner_text() == "nota.pdf"
    page.fill("#reply-body", "Segue a nota fiscal da impressora.")
    page.click("#reply-send")
    page.wait_for_selector("#toasts .toast[data-level=success]")
    assert "Segue a nota fiscal" in page.locator("#timeline").inner_text()
    page.screenshot(path=str(ARTIFACTS / "portal-ticket.png"), full_page=True)
    log_out(page)

    log_in(page, live_server, "bia@padaria.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/tickets")
    assert page.locator("#no-tickets").is_visible()
    log_out(page)

    log_in(page, live_server, "carla@padaria.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/tickets")
    assert page.locator("#portal-tickets tbody tr").count() == 1
    assert "Impressora parou de imprimir" in page.locator("#portal-tickets").inner_text()
    page.screenshot(path=str(ARTIFACTS / "portal-tickets.png"), full_page=True)

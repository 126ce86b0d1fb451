"""Browser test (issue 15): staff write an article of the knowledge base in the panel
(with a preview) and publish it; a client user finds it from the workspace's nav by a
word typed without accents and opens it; the public page, without a login, shows the
public articles only."""

from __future__ import annotations

import pytest

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from portal.states import Visibility
from tests.test_browser import ARTIFACTS, live_server, log_in, log_out, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

BODY = "# Configuração do e-mail\n\n1. Abra o aplicativo.\n2. Informe **servidor** e senha."


def test_staff_publish_an_article_a_client_user_finds_it_and_the_public_page_shows_public_ones(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional")
    client = factory.client(reseller.id, trade_name="Padaria Central", plan_id=plan.id, payment_status="paid")
    user = factory.user(client.id, email="ana@padaria.test", name="Ana Padeira")
    with app.app_context():
        db.session.get(Account, user.id).permissions = [perm.PORTAL]
        db.session.commit()
    factory.article(
        reseller.id, "Como pagar a fatura", "Boleto ou Pix.", Visibility.PUBLIC, category="Financeiro"
    )

    log_in(page, live_server, "owner@a.test", factory.password)
    page.click("nav a[data-nav='kb']")
    page.wait_for_url("**/reseller/kb")
    page.click("#new-article")
    page.fill("#title", "Configuração do e-mail")
    page.fill("#body", BODY)
    page.fill("#category", "E-mail")
    page.select_option("#visibility", "clients")
    page.click("#preview-article")
    page.wait_for_selector("#article-preview h1")
    assert page.locator("#article-preview li").count() == 2
    page.click("#save-article")
    page.wait_for_selector("#publish")
    page.click("#publish")
    page.wait_for_selector("#unpublish")
    page.screenshot(path=str(ARTIFACTS / "kb-staff.png"), full_page=True)
    log_out(page)

    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/**")
    page.click("#portal-menu")
    page.click("nav a[href='/app/kb']")
    page.wait_for_url("**/app/kb")
    page.fill("#kb-q", "configuracao")
    page.click("#kb-search button")
    page.wait_for_selector("#kb-results")
    assert page.locator("#kb-results li").count() == 1
    page.click("#kb-results a")
    page.wait_for_selector("#kb-body h1")
    assert page.locator("#kb-body strong").inner_text() == "servidor"
    page.screenshot(path=str(ARTIFACTS / "kb-client.png"), full_page=True)
    log_out(page)

    page.goto(f"{live_server}/kb")
    listed = page.locator("main").inner_text()
    assert "Como pagar a fatura" in listed and "Configuração do e-mail" not in listed
    assert page.locator("nav a[href='/app/kb']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "kb-public.png"), full_page=True)

"""Browser test (issue 15): staff write and publish the terms of use in the panel (with a
preview); a client user logs in, is shown the terms before the workspace, accepts, and
lands in the workspace; the panel lists the acceptance."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from portal.models import TermsAcceptance
from tests.test_browser import ARTIFACTS, live_server, log_in, log_out, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

TERMS = """# Termos de uso da Revenda Azul

Ao usar o atendimento você concorda com:

- manter sua senha em sigilo;
- pagar as faturas até o vencimento.
"""


def test_staff_publish_terms_and_a_client_user_accepts_them_first(app, factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional")
    client = factory.client(reseller.id, trade_name="Padaria Central", plan_id=plan.id, payment_status="paid")
    factory.user(client.id, email="ana@padaria.test", name="Ana Padeira")

    log_in(page, live_server, "owner@a.test", factory.password)
    page.click("[data-nav=administration]")  # the set-up pages' menu
    page.click("nav a[data-nav='terms']")
    page.wait_for_url("**/reseller/terms")
    assert page.locator("#no-terms").is_visible()
    page.fill("#body", TERMS)
    page.click("#preview-terms")
    page.wait_for_selector("#terms-preview h1")
    assert page.locator("#terms-preview li").count() == 2
    page.click("#publish")
    page.wait_for_selector("#current-terms h1")
    assert "Versão 1 publicada" in page.content()
    page.screenshot(path=str(ARTIFACTS / "terms-staff.png"), full_page=True)
    log_out(page)

    # The client user asks for the contacts page: the terms come first, then that page.
    page.goto(f"{live_server}/login?next=/app/contacts")
    page.fill("#email", "ana@padaria.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/app/terms\?next="))
    assert page.locator("#terms-body h1").inner_text() == "Termos de uso da Revenda Azul"
    assert page.locator("nav a[href='/app/contacts']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "terms-client.png"), full_page=True)
    page.click("#accept")
    page.wait_for_url("**/app/contacts")
    assert page.locator("nav a[href='/app/contacts']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "terms-accepted-workspace.png"), full_page=True)
    with app.app_context():
        row = db.session.scalars(select(TermsAcceptance)).one()
        assert row.ip == "127.0.0.1" and "Chrome" in (row.user_agent or "")

    # Back in the panel, the version lists who accepted it.
    log_out(page)
    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/terms")
    page.click("#terms-versions a")
    page.wait_for_selector("#terms-acceptances")
    listed = page.locator("#terms-acceptances tbody").inner_text()
    assert "Padaria Central" in listed and "ana@padaria.test" in listed
    page.screenshot(path=str(ARTIFACTS / "terms-acceptances.png"), full_page=True)

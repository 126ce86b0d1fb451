"""Browser test: staff give a client a domain on its Domínios tab, see the users of that
domain who have no client, link them, then find the domain in the Domínios module."""

from __future__ import annotations

import pytest

from auth import identity
from core.extensions import db
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_add_a_domain_link_its_users_and_find_it_in_the_module(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Padaria São João")
    factory.client(reseller.id, trade_name="Óticas Gama")
    with app.app_context():
        for email in ("ana@padaria.com.br", "bruno@padaria.com.br"):
            identity.ensure_login(reseller.id, email)
        db.session.commit()

    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/clients/{client.id}")
    page.click("#client-tabs [data-tab='domains']")
    page.wait_for_selector("#add-domain")
    page.fill("#domain", "https://www.Padaria.com.br/")
    page.click("#add-domain button")
    page.wait_for_selector("#link-preview")
    assert page.locator("#unlinked-logins li").count() == 2
    page.screenshot(path=str(ARTIFACTS / "domain-link-preview.png"), full_page=True)
    page.click("#link-confirm")
    page.wait_for_selector("#client-domain-list")
    assert page.locator("#client-domain-list [data-domain='padaria.com.br']").is_visible()
    assert page.locator("#client-tabs .nav-link.active").inner_text().strip() == "Domínios"

    page.click("[data-nav='domains']")
    page.wait_for_selector("#domains")
    row = page.locator("#domains tr[data-domain='padaria.com.br']")
    assert row.locator("[data-client-link]").inner_text() == "Padaria São João"
    page.screenshot(path=str(ARTIFACTS / "domains-module.png"), full_page=True)

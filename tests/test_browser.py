"""Browser tests: Playwright driving Debian's Chromium against a live server."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from auth.models import Account, Login
from core.extensions import db
from tenant.inbox_models import Contact, Conversation

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The context's locale sets the page's language and Intl, but a date input is drawn in
# the browser's own language (LANGUAGE, with Debian's chromium-l10n: `make chromium`);
# without it the pt-BR pages' date fields read mm/dd/yyyy.
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "pt_BR"}


@pytest.fixture
def live_server(app):
    # One thread, one request at a time: requests share the test's transaction.
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV
        )
        context = browser.new_context(
            locale="pt-BR", viewport={"width": 1400, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def log_in(page, live_server: str, email: str, password: str, landing: str = "**/reseller/clients") -> None:
    """Log in through the login form and wait for the page it lands on."""
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(landing)


def open_user_menu(page) -> None:
    """Open the user menu once Bootstrap listens: the scripts at the end of the body may
    not have run yet when the page's first elements appear."""
    page.wait_for_load_state("load")
    page.click("#user-menu")
    page.wait_for_selector("#user-menu[aria-expanded='true']")


def log_out(page) -> None:
    """Log out through the user menu."""
    open_user_menu(page)
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login*")


def test_owner_filters_sorts_pages_and_adds_a_client(app, factory, live_server, page):
    # The live server answers on 127.0.0.1, which the default-host setting maps to reseller A.
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional")
    for i in range(30):
        factory.client(
            reseller.id,
            trade_name=f"Empresa {i:02d}",
            plan_id=plan.id if i % 2 else None,
            payment_status="paid" if i % 2 else None,
            phone="+5511987654321" if i % 3 else None,
        )
    factory.client(reseller.id, trade_name="São João Padaria")

    page.goto(f"{live_server}/login")
    page.screenshot(path=str(ARTIFACTS / "login.png"))
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    assert page.locator("tbody tr[data-client-id]").count() == 25
    assert "Nome fantasia" in page.content()
    page.screenshot(path=str(ARTIFACTS / "client-list.png"), full_page=True)

    # Typing in a filter updates the list through htmx and the URL keeps the filter.
    page.fill("#f-trade", "sao joao")
    page.wait_for_url("**trade_name=sao+joao**")
    page.wait_for_function("document.querySelectorAll('tbody tr[data-client-id]').length === 1")
    assert "São João Padaria" in page.locator("tbody").inner_text()
    page.goto(f"{live_server}/reseller/clients")

    # Sorting by trade name, then page 2.
    page.click("th a[data-sort=trade_name]")
    page.wait_for_url("**sort=trade_name**")
    first = page.locator("tbody tr[data-client-id] td:nth-child(2)").first.inner_text()
    assert first.strip() == "Empresa 00"
    page.click(".pagination a:text-is('2')")
    page.wait_for_url("**page=2**")
    assert page.locator("tbody tr[data-client-id]").count() == 6
    assert "sort=trade_name" in page.url

    # The download follows the filters.
    with page.expect_download() as download:
        page.click("#download-link")
    assert download.value.suggested_filename.endswith(".xlsx")

    # Add a client: a bad CNPJ is refused with a message, then a good one is saved.
    page.goto(f"{live_server}/reseller/clients/new")
    page.screenshot(path=str(ARTIFACTS / "client-form.png"), full_page=True)
    page.fill("#trade_name", "Nova Loja")
    page.fill("#legal_name", "Nova Loja Comércio Ltda")
    page.fill("#email", "contato@novaloja.test")
    page.fill("#document", "11.111.111/1111-11")
    page.click("#save-client")
    assert "CNPJ não é válido" in page.content() or "CNPJ is not valid" in page.content()
    page.screenshot(path=str(ARTIFACTS / "client-form-error.png"), full_page=True)
    page.fill("#document", "11.222.333/0001-81")
    page.click("#save-client")
    page.wait_for_url("**/reseller/clients")
    assert "Nova Loja" in page.content()


def test_first_login_with_code_account_choice_and_switch(app, factory, live_server, page, mailbox, run_jobs):
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    alpha = factory.client(reseller.id, trade_name="Alpha Comércio")
    gama = factory.client(reseller.id, trade_name="Gama Serviços")
    first = factory.user(alpha.id, email="multi@a.test", name="Marta na Alpha")
    factory.user(gama.id, email="multi@a.test", name="Marta na Gama")
    with app.app_context():
        db.session.get(Login, first.login_id).verified_at = None
        db.session.commit()

    page.goto(f"{live_server}/login")
    page.fill("#email", "multi@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/code")
    page.screenshot(path=str(ARTIFACTS / "login-code.png"))
    run_jobs()
    [mail] = mailbox.to("multi@a.test")
    code = re.search(r"^\s+(\d{6})\s*$", mail["text"], re.M).group(1)
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.click("form:has(#code) button[type=submit]")
    assert page.locator(".invalid-feedback").inner_text().startswith("O código está incorreto")
    page.fill("#code", code)
    page.click("form:has(#code) button[type=submit]")

    page.wait_for_url("**/login/account")
    assert "Alpha Comércio" in page.content() and "Marta na Gama" in page.content()
    page.screenshot(path=str(ARTIFACTS / "choose-account.png"))
    page.click("button:has-text('Gama Serviços')")
    page.wait_for_url("**/app/**")
    assert "Gama Serviços" in page.locator("h1").inner_text()

    open_user_menu(page)
    page.screenshot(path=str(ARTIFACTS / "switch-menu.png"))
    page.click("button[data-switch-to]:has-text('Alpha Comércio')")
    page.wait_for_url("**/app/**")
    page.wait_for_function("document.querySelector('h1').innerText.includes('Alpha')")
    assert "Alpha Comércio" in page.locator("h1").inner_text()

    open_user_menu(page)
    page.click("a:has-text('Segurança e sessões')")
    page.wait_for_url("**/account/security")
    assert page.locator("tr[data-session-id]").count() == 1  # the switch ended the previous session
    assert page.locator("tr[data-device-id]").count() == 1  # this browser is trusted
    page.screenshot(path=str(ARTIFACTS / "security.png"), full_page=True)


def test_staff_logs_in_as_a_level_1_user_without_phones_and_ends_it(app, factory, live_server, page):
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional")
    client = factory.client(reseller.id, trade_name="Loja Alfa", plan_id=plan.id, payment_status="paid")
    user = factory.user(client.id, email="nivel1@alfa.test", name="Atendente Nível 1")
    other = factory.user(client.id, email="outra@alfa.test", name="Outra Atendente")
    with app.app_context():
        account = db.session.get(Account, user.id)
        account.chat_level, account.view_phones = 1, False
        for name, phone, assigned in (
            ("Cliente da Atendente", "5511987654321", user.id),
            ("Cliente da Outra", "5511912345678", other.id),
            ("Cliente na Fila", "5521998877665", None),
        ):
            contact = Contact(reseller_id=reseller.id, client_id=client.id, name=name, phone=phone)
            db.session.add(contact)
            db.session.flush()
            db.session.add(
                Conversation(
                    reseller_id=reseller.id,
                    client_id=client.id,
                    contact_id=contact.id,
                    assigned_account_id=assigned,
                )
            )
        db.session.commit()

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    page.goto(f"{live_server}/reseller/clients/{client.id}/users")
    page.screenshot(path=str(ARTIFACTS / "client-users.png"), full_page=True)
    page.click(f"tr[data-user-id='{user.id}'] button:has-text('Logar como')")
    page.wait_for_url("**/app/")
    assert page.locator("#impersonation-banner").is_visible()
    page.goto(f"{live_server}/app/?view=mine")
    rows = page.locator("[data-conversation-id]")
    assert rows.count() == 1
    assert "Cliente da Atendente" in rows.first.inner_text()
    assert "+55 11 ****-**21" in rows.first.inner_text()
    assert "98765" not in page.content() and "Cliente da Outra" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "impersonation.png"), full_page=True)
    page.click("#impersonation-banner button[type=submit]")
    page.wait_for_url(f"**/reseller/clients/{client.id}/users")
    assert page.locator("#impersonation-banner").count() == 0
    assert "Voltou ao painel" in page.content() or "Você voltou ao painel" in page.content()

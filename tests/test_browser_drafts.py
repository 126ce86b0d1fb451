"""Browser test (issue 18): a form refused for its CSRF token, or sent after the session
ended, loses nothing. static/app/drafts.js keeps what the form held when it was sent;
the server (core/resubmit.py) sends the browser back to the form's page, which puts it
all back, with the message; after a login, the page `next` returns to does too."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenant.models import Client
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

MESSAGE = "O formulário expirou antes do envio; o que você escreveu foi mantido. Confira e envie de novo."
FORM = "form[enctype='multipart/form-data']"
TYPED = {
    "#trade_name": "Padaria Rascunho",
    "#legal_name": "Padaria Rascunho Comércio de Pães Ltda",
    "#email": "contato@rascunho.test",
    "#phone": "(11) 98765-4321",
    "#document": "11.222.333/0001-81",
    "#postal_code": "01310-100",
    "#street": "Avenida Paulista",
    "#street_number": "1000",
    "#complement": "Sala 12",
    "#district": "Bela Vista",
    "#city": "São Paulo",
    "#responsible_email": "dona@rascunho.test",
    "#responsible_name": "Dona Maria",
}
CHOSEN = {"#sla_level": None, "#document_type": "cpf", "#state": "SP"}


def _type_everything(page) -> dict:  # noqa: F811
    for selector, value in TYPED.items():
        page.fill(selector, value)
    chosen = {}
    for selector, value in CHOSEN.items():
        if value is None:  # the last choice, whatever the list holds
            value = page.eval_on_selector(selector, "el => el.options[el.options.length - 1].value")
        page.select_option(selector, value)
        chosen[selector] = value
    return chosen


def _assert_everything_back(page, chosen: dict) -> None:  # noqa: F811
    for selector, value in {**TYPED, **chosen}.items():
        assert page.input_value(selector) == value, selector


def _clients(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Client))


def test_a_broken_csrf_token_comes_back_to_the_form_with_everything_typed(app, factory, live_server, page):  # noqa: F811
    factory.reseller(host="a.test", owner_email="owner@a.test")
    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/clients/new")
    page.wait_for_load_state("load")
    chosen = _type_everything(page)
    before = _clients(app)
    page.eval_on_selector(f"{FORM} input[name=csrf_token]", "el => { el.value = 'broken-token'; }")
    page.click("#save-client")
    page.wait_for_selector("main[data-draft-restore]", state="attached")
    # drafts.js marks the form once its values are back (the page's mark comes first).
    page.wait_for_selector(f"{FORM}[data-draft-restored]", state="attached")
    assert page.url.endswith("/reseller/clients/new")
    assert MESSAGE in page.locator("#toasts .toast[data-level=warning]").inner_text()
    _assert_everything_back(page, chosen)
    assert _clients(app) == before
    page.screenshot(path=str(ARTIFACTS / "drafts-csrf-restored.png"), full_page=True)

    # Once: a reload is a new page load, the draft is gone.
    page.reload()
    page.wait_for_load_state("load")
    assert page.input_value("#trade_name") == ""
    assert page.evaluate("sessionStorage.getItem('drafts')") is None


def test_a_form_sent_after_the_session_ended_comes_back_after_the_login(app, factory, live_server, page):  # noqa: F811
    factory.reseller(host="a.test", owner_email="owner@a.test")
    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/clients/new")
    page.wait_for_load_state("load")
    chosen = _type_everything(page)
    page.context.clear_cookies()  # the session ends while the page is open
    page.click("#save-client")
    page.wait_for_url("**/login**")
    page.wait_for_load_state("load")
    assert page.evaluate("sessionStorage.getItem('drafts')") is not None
    page.fill("#password", factory.password)
    page.fill("#email", "owner@a.test")
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients/new")
    page.wait_for_selector(f"{FORM}[data-draft-restored]", state="attached")
    _assert_everything_back(page, chosen)
    page.screenshot(path=str(ARTIFACTS / "drafts-after-login.png"), full_page=True)


def test_a_reply_refused_for_its_file_comes_back_with_its_text(factory, live_server, page):  # noqa: F811
    """The rules refuse the reply (a program attached): the ticket page comes back with
    the reason and the text typed, the internal-note box as it was; the file is asked again."""
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Padaria do Chamado")
    ticket = factory.ticket(client.id)
    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/tickets/{ticket.id}")
    page.wait_for_load_state("load")
    text = "Bom dia! Segue a planilha corrigida.\nQualquer dúvida, estamos à disposição."
    page.fill("#reply-body", text)
    page.check("#reply-internal")
    page.set_input_files(
        "#reply-form input[type=file]",
        files=[
            {
                "name": "planilha.exe",
                "mimeType": "application/octet-stream",
                "buffer": b"MZ\x90\x00" + bytes(512),
            }
        ],
    )
    page.click("#reply-send")
    page.wait_for_selector("main[data-draft-restore]", state="attached")
    page.wait_for_selector("#reply-form[data-draft-restored]", state="attached")
    assert page.input_value("#reply-body") == text
    assert page.is_checked("#reply-internal")
    assert page.input_value("#reply-form input[type=file]") == ""
    page.screenshot(path=str(ARTIFACTS / "drafts-reply-refused.png"), full_page=True)

"""Browser test of e-mail on a ticket (issue 14): an HTML reply shows as HTML with its
inline image served by us and its original downloadable; a dead requester address shows
why and is tried again; the unknown senders queue gives a waiting e-mail a client.
Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from auth.models import Account
from core.extensions import db
from core.mail import mark_undeliverable
from core.models import Reseller
from desk.ticket_models import Ticket
from intake.states import IntakeOutcome
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_intake_bodies import gmail_html_reply
from tests.test_intake_processing import DESK_ADDRESS, SENDER, deliver, mail

pytestmark = pytest.mark.browser


def test_staff_read_an_html_reply_retry_a_dead_address_and_place_an_unknown_sender(
    app,
    run_jobs,
    factory,
    tenants,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    desk = factory.desk(
        tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id], intake_email=DESK_ADDRESS
    )
    factory.user(tenants.a.client.id, email=SENDER, name="Ana")
    ticket, _row = gmail_html_reply(app, run_jobs, factory, tenants.a.client.id, desk.id)
    with app.app_context():
        requester = db.session.get(Account, db.session.get(Ticket, ticket.id).requester_account_id)
        mark_undeliverable(tenants.a.id, requester.email, "5.1.1", "550 5.1.1 user unknown")
        db.session.get(Reseller, tenants.a.id).mail_creates_clients = False
        db.session.commit()
    waiting = deliver(app, run_jobs, mail(sender="carla@construtora-lima.com.br", message_id="<w1@x>"))
    assert waiting.outcome == IntakeOutcome.UNKNOWN_SENDER

    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/tickets/{ticket.id}")
    reply = page.locator(".mail-html").last
    assert "obrigada" in reply.inner_text()
    image = reply.locator("img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # served by us
    assert page.locator("[data-original-mail]").count() >= 1
    warning = page.locator("#requester-bounce")
    assert "5.1.1" in warning.inner_text() and "user unknown" in warning.inner_text()
    page.screenshot(path=str(ARTIFACTS / "mail-ticket.png"), full_page=True)
    warning.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("#requester-bounce").count() == 0

    page.click("[data-nav='tickets']")
    page.click("[data-queue-link='mail_unknown.queue']")
    page.wait_for_url("**/reseller/mail/unknown")
    row = page.locator(f"[data-message-id='{waiting.id}']")
    assert "carla@construtora-lima.com.br" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "mail-unknown-senders.png"), full_page=True)
    row.locator("input[name=client]").fill(str(tenants.a.client.id))
    row.locator("[data-assign] button").click()
    page.wait_for_load_state()
    assert page.locator(f"[data-message-id='{waiting.id}']").count() == 0
    assert "agora é usuário" in page.locator("#toasts .toast[data-level=success]").inner_text()

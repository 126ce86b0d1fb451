"""Browser test (issue 15): staff resolve a ticket on a desk with review, the requester
accepts the resolution and rates it on the portal's ticket page, and the staff panel
shows both; a rating link from the e-mail opens a page that rates on one click."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from desk import ratings
from desk.models import Desk
from desk.states import StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status
from desk.ticket_models import Ticket
from desk.tickets import open_ticket
from tenant.models import Client
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_browser_portal import log_out, padaria

pytestmark = pytest.mark.browser


def test_staff_resolve_and_the_requester_accepts_and_rates(
    app,
    factory,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller, client = padaria(factory)
    desk = factory.desk(reseller.id, name="Suporte", client_ids=[client.id])
    ana = factory.user(client.id, email="ana@padaria.test", name="Ana Padeira")
    with app.app_context():
        db.session.get(Account, ana.id).permissions = [perm.PORTAL]
        opened = [
            open_ticket(
                db.session.get(Desk, desk.id),
                db.session.get(Client, client.id),
                db.session.get(Account, ana.id),
                subject,
                "Não liga.",
            )
            for subject in ("Impressora parada", "Balança descalibrada")
        ]
        # The second one is resolved already (accepted): its e-mailed link is used below.
        change_status(opened[1], default_status(reseller.id, StatusKind.RESOLVED))
        db.session.commit()
        ticket_id, token = opened[0].id, ratings.link_token(opened[1])
        resolved = default_status(reseller.id, StatusKind.RESOLVED).id

    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/tickets/{ticket_id}")
    page.select_option("#status-select", str(resolved))
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#review-awaiting")
    log_out(page)

    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/tickets/{ticket_id}")
    assert page.locator("#ticket-review").is_visible() and page.locator("#reopen-reason").is_visible()
    page.screenshot(path=str(ARTIFACTS / "portal-review.png"), full_page=True)
    page.click("#review-accept")
    page.wait_for_selector("#ticket-rate")
    page.click("label[for=portal-score-4]")
    page.fill("#portal-comment", "Resolveram rápido.")
    page.click("#rate-submit")
    page.wait_for_selector("#ticket-rating")
    assert page.locator("#ticket-rating").get_attribute("data-score") == "4"
    page.screenshot(path=str(ARTIFACTS / "portal-rated.png"), full_page=True)
    log_out(page)

    # From the e-mail: the page shows the score chosen; only the button rates.
    page.goto(f"{live_server}/rate/{token}?score=5")
    assert page.locator("#link-score-5").is_checked()
    page.screenshot(path=str(ARTIFACTS / "rating-link.png"), full_page=True)
    page.fill("#link-comment", "Ótimo.")
    page.click("#confirm-rating")
    page.wait_for_selector("#rating-message[data-done=yes]")

    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/tickets/{ticket_id}")
    panel = page.locator("#review-panel").inner_text()
    assert "Ana Padeira" in panel and "Resolveram rápido." in panel
    with app.app_context():
        scores = {t.id: ratings.rating_of(t).score for t in db.session.scalars(select(Ticket))}
    assert sorted(scores.values()) == [4, 5]

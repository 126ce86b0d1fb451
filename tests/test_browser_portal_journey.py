"""Browser test (issue 15), the client portal from end to end: a client user accepts the
reseller's terms, opens a ticket on a desk that wants two of its supervisors' approval
(with the desk's field and a file), two of the three supervisors approve it, she
replies, staff resolve it, and she accepts the resolution and rates it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from desk.fields import add_field
from desk.models import Desk
from desk.review_models import TicketRating
from desk.states import ApprovalRule, ClientVisibility, FieldType, StatusKind
from desk.statuses import default_status
from desk.ticket_models import Ticket
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_browser_portal import log_out, padaria

pytestmark = pytest.mark.browser

PAST_THE_TERMS = re.compile(r".*/app/(?!terms).*")
SUPERVISORS = {"carla@padaria.test": "Carla", "davi@padaria.test": "Davi", "eva@padaria.test": "Eva"}


def people(app, factory, client_id) -> None:
    """Ana (the portal) and three supervisors (every ticket of the client)."""
    for email, name in {"ana@padaria.test": "Ana", **SUPERVISORS}.items():
        user = factory.user(client_id, email=email, name=name)
        with app.app_context():
            granted = [perm.PORTAL, perm.ALL_TICKETS] if email in SUPERVISORS else [perm.PORTAL]
            db.session.get(Account, user.id).permissions = granted
            db.session.commit()


def approve(page, live_server, email, factory):  # noqa: F811
    log_in(page, live_server, email, factory.password, landing="**/app/terms**")
    page.click("#accept")
    page.wait_for_url(PAST_THE_TERMS)
    page.goto(f"{live_server}/app/approvals")
    page.click("#approvals-waiting button[value=approved]")
    page.wait_for_selector("#toasts .toast[data-level=success]")
    log_out(page)


def test_terms_ticket_two_of_three_approvals_reply_resolution_acceptance_and_rating(
    app,
    factory,
    tmp_path,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller, client = padaria(factory)
    desk = factory.desk(
        reseller.id,
        name="Compras",
        client_ids=[client.id],
        approval_rule=ApprovalRule.N_OF_M,
        approvals_needed=2,
        review_timeout_days=5,
    )
    with app.app_context():
        add_field(
            db.session.get(Desk, desk.id),
            label="Centro de custo",
            field_type=FieldType.TEXT,
            visibility=ClientVisibility.EDITABLE,
            required=True,
        )
        db.session.commit()
        resolved = default_status(reseller.id, StatusKind.RESOLVED).id
    people(app, factory, client.id)
    factory.terms(reseller.id, body="# Termos de uso\n\n- Respeite os prazos.")
    quote = tmp_path / "orcamento.pdf"
    quote.write_bytes(b"%PDF-1.4 orcamento")

    # The terms come before anything else.
    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/terms**")
    page.click("#accept")
    page.wait_for_url(PAST_THE_TERMS)
    page.goto(f"{live_server}/app/tickets/new")
    page.fill("#t-subject", "Compra de um novo leitor de código de barras")
    page.fill("#t-description", "O leitor do caixa 2 quebrou.")
    page.fill("#field-centro_de_custo", "Loja 1")
    page.set_input_files("#t-files", str(quote))
    page.click("#ticket-open")
    page.wait_for_selector("#ticket-header")
    ticket_id = int(page.locator("#ticket-header").get_attribute("data-ticket-id"))
    assert page.locator("#ticket-status").get_attribute("data-status") == StatusKind.WAITING_ON_CLIENT
    assert page.locator("a[data-attachment]").inner_text() == "orcamento.pdf"
    log_out(page)

    # Two of the three supervisors approve: the ticket moves on.
    for email in list(SUPERVISORS)[:2]:
        approve(page, live_server, email, factory)
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status_kind == StatusKind.OPEN

    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/tickets/{ticket_id}")
    assert page.locator(".approval-event").count() >= 2
    page.fill("#reply-body", "O orçamento vale até sexta.")
    page.click("#reply-send")
    page.wait_for_selector("#toasts .toast[data-level=success]")
    log_out(page)

    log_in(page, live_server, "owner@a.test", factory.password)
    page.goto(f"{live_server}/reseller/tickets/{ticket_id}")
    assert "O orçamento vale até sexta." in page.locator("#timeline").inner_text()
    page.select_option("#status-select", str(resolved))
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#review-awaiting")
    log_out(page)

    log_in(page, live_server, "ana@padaria.test", factory.password, landing="**/app/**")
    page.goto(f"{live_server}/app/tickets/{ticket_id}")
    page.click("#review-accept")
    page.wait_for_selector("#ticket-rate")
    page.click("label[for=portal-score-5]")
    page.fill("#portal-comment", "Chegou antes do prazo.")
    page.click("#rate-submit")
    page.wait_for_selector("#ticket-rating")
    page.screenshot(path=str(ARTIFACTS / "portal-journey.png"), full_page=True)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status_kind == StatusKind.RESOLVED and ticket.field_values == {
            "centro_de_custo": "Loja 1"
        }
        rating = db.session.scalar(select(TicketRating).where(TicketRating.ticket_id == ticket_id))
        assert (rating.score, rating.comment) == (5, "Chegou antes do prazo.")

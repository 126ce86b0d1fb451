"""The unknown senders queue (``/reseller/mail/unknown``, seed 003): with creating
clients from e-mail turned off, an unknown sender's message waits there; staff give it a
client (the sender becomes its user and the message opens their ticket) or discard it;
another reseller's waiting message is a 404; giving a client needs *client users*."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account, Login
from core.extensions import db
from core.models import Reseller
from desk.models import DeskStaff
from intake.models import InboundMessage
from intake.states import IntakeOutcome
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import deliver, mail

desk_a = processing_tests.desk_a
STRANGER = "carla@construtora-lima.com.br"


@pytest.fixture
def waiting_row(app, run_jobs, tenants, desk_a):
    with app.app_context():
        db.session.get(Reseller, tenants.a.id).mail_creates_clients = False
        db.session.commit()
    row = deliver(app, run_jobs, mail(sender=STRANGER, subject="Orçamento de manutenção"))
    assert row.outcome == IntakeOutcome.UNKNOWN_SENDER
    return row


@pytest.fixture
def owner(browser):
    browser.login("owner@a.test")
    return browser


def outcome_of(app, row_id: int):
    with app.app_context():
        return db.session.get(InboundMessage, row_id)


def test_a_waiting_message_is_listed_and_its_original_downloadable(app, waiting_row, owner, make_browser):
    page = owner.get("/reseller/mail/unknown").get_data(as_text=True)
    assert (
        f'data-message-id="{waiting_row.id}"' in page
        and STRANGER in page
        and "Orçamento de manutenção" in page
    )
    original = owner.get(f"/reseller/mail/unknown/{waiting_row.id}/original")
    assert original.status_code == 200 and b"Subject:" in original.data
    original.close()
    other = make_browser(host="b.test")
    other.login("owner@b.test")
    assert STRANGER not in other.get("/reseller/mail/unknown").get_data(as_text=True)
    assert other.get(f"/reseller/mail/unknown/{waiting_row.id}/original").status_code == 404
    assert other.post(f"/reseller/mail/unknown/{waiting_row.id}/discard").status_code == 404
    assert outcome_of(app, waiting_row.id).outcome == IntakeOutcome.UNKNOWN_SENDER


def test_giving_a_client_makes_the_sender_its_user_and_opens_the_ticket(
    app, run_jobs, tenants, waiting_row, owner
):
    done = owner.post(f"/reseller/mail/unknown/{waiting_row.id}/assign", {"client": str(tenants.a.client.id)})
    assert done.status_code == 302
    run_jobs()
    row = outcome_of(app, waiting_row.id)
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.client_id == tenants.a.client.id
    with app.app_context():
        account = db.session.scalar(
            select(Account).join(Login, Login.id == Account.login_id).where(Login.email == STRANGER)
        )
        assert account.client_id == tenants.a.client.id
    assert f'data-message-id="{waiting_row.id}"' not in owner.get("/reseller/mail/unknown").get_data(
        as_text=True
    )


def test_a_client_the_desk_does_not_serve_is_refused_and_nothing_is_made(
    app, factory, tenants, waiting_row, owner
):
    other = factory.client(tenants.a.id, trade_name="Outra")
    answer = owner.post(
        f"/reseller/mail/unknown/{waiting_row.id}/assign", {"client": str(other.id)}, follow_redirects=True
    )
    assert "não atende este cliente" in answer.get_data(as_text=True)
    assert outcome_of(app, waiting_row.id).outcome == IntakeOutcome.UNKNOWN_SENDER
    with app.app_context():
        assert db.session.scalar(select(Login).where(Login.email == STRANGER)) is None


def test_discarding_takes_it_out_of_the_queue(app, waiting_row, owner):
    assert owner.post(f"/reseller/mail/unknown/{waiting_row.id}/discard").status_code == 302
    assert outcome_of(app, waiting_row.id).outcome == IntakeOutcome.DISCARDED
    assert owner.get(f"/reseller/mail/unknown/{waiting_row.id}/original").status_code == 404


def test_giving_a_client_needs_the_client_users_permission(app, factory, tenants, waiting_row, make_browser):
    factory.staff(tenants.a.id, permissions=[perm.DESKS], email="mesa@a.test")
    agent = make_browser()
    agent.login("mesa@a.test")
    assert agent.get("/reseller/mail/unknown").status_code == 200
    refused = agent.post(
        f"/reseller/mail/unknown/{waiting_row.id}/assign", {"client": str(tenants.a.client.id)}
    )
    assert refused.status_code == 403
    assert outcome_of(app, waiting_row.id).outcome == IntakeOutcome.UNKNOWN_SENDER


def test_staff_see_only_the_waiting_mail_of_the_desks_they_work(
    app, factory, tenants, waiting_row, make_browser
):
    other_desk = factory.desk(tenants.a.id, name="Vendas")
    agent = factory.staff(tenants.a.id, permissions=[perm.DESKS, perm.CLIENT_USERS], email="vendas@a.test")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=other_desk.id, account_id=agent.id, reseller_id=tenants.a.id))
        db.session.commit()
    seller = make_browser()
    seller.login("vendas@a.test")
    page = seller.get("/reseller/mail/unknown").get_data(as_text=True)
    assert f'data-message-id="{waiting_row.id}"' not in page and "Alpha A" not in page  # no row, no names
    assert seller.get(f"/reseller/mail/unknown/{waiting_row.id}/original").status_code == 404
    answer = seller.post(
        f"/reseller/mail/unknown/{waiting_row.id}/assign", {"client": str(tenants.a.client.id)}
    )
    assert answer.status_code == 404
    assert seller.post(f"/reseller/mail/unknown/{waiting_row.id}/discard").status_code == 404
    assert outcome_of(app, waiting_row.id).outcome == IntakeOutcome.UNKNOWN_SENDER


def test_the_client_suggestions_are_in_the_page_not_its_title(tenants, waiting_row, owner):
    page = owner.get("/reseller/mail/unknown").get_data(as_text=True)
    title = page[page.index("<title>") : page.index("</title>")]
    assert "Alpha A" not in title and "Alpha A" in page

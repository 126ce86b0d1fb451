"""What the staff see of e-mail on a ticket (issue 14): the original message a ticket
or reply was made from, downloadable only from its own ticket by staff who work the
desk; a dead requester address with the bounce's reason and a way to try it again; the
out-of-office and bounce events; the desk that takes mail to an unknown address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth import permissions as perm
from core.extensions import db
from core.mail import mark_undeliverable, undeliverable
from desk.models import Desk
from desk.states import EventType
from desk.ticket_models import Ticket, TicketAttachment
from desk.tickets import add_event
from tests import test_intake_processing as processing_tests
from tests.test_intake_bodies import PNG, gmail_html_reply
from tests.test_intake_processing import SENDER, deliver, mail

desk_a = processing_tests.desk_a
ana = processing_tests.ana


@pytest.fixture
def owner(browser):
    browser.login("owner@a.test")
    return browser


def test_the_original_e_mail_is_downloadable_from_its_ticket_only(
    app, run_jobs, factory, tenants, desk_a, ana, owner, make_browser
):
    raw = mail(subject="Impressora parada", body="Texto original com assinatura\n-- \nAna")
    row = deliver(app, run_jobs, raw)
    page = owner.get(f"/reseller/tickets/{row.ticket_id}")
    link = f"/reseller/tickets/{row.ticket_id}/mail/{row.id}"
    assert page.status_code == 200 and link in page.get_data(as_text=True)
    download = owner.get(link)
    assert download.status_code == 200 and download.data == raw
    assert download.mimetype == "message/rfc822"
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    other = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    assert owner.get(f"/reseller/tickets/{other.id}/mail/{row.id}").status_code == 404
    # Staff who do not work the desk, and staff of another reseller, get nothing.
    outsider = factory.staff(tenants.a.id, permissions=[perm.DESKS], email="outro@a.test")
    assert outsider
    stranger = make_browser()
    stranger.login("outro@a.test")
    assert stranger.get(link).status_code == 404
    b_owner = make_browser(host="b.test")
    b_owner.login("owner@b.test")
    assert b_owner.get(link).status_code == 404


def test_a_dead_requester_address_shows_why_and_can_be_tried_again(
    app, run_jobs, factory, tenants, desk_a, ana, owner
):
    row = deliver(app, run_jobs, mail())
    with app.app_context():
        mark_undeliverable(tenants.a.id, SENDER, "5.1.1", "550 5.1.1 user unknown")
        db.session.commit()
    page = owner.get(f"/reseller/tickets/{row.ticket_id}").get_data(as_text=True)
    assert 'id="requester-bounce"' in page and "5.1.1" in page and "user unknown" in page
    done = owner.post(f"/reseller/tickets/{row.ticket_id}/requester-mail")
    assert done.status_code == 302
    with app.app_context():
        assert undeliverable(tenants.a.id, [SENDER]) == {}
    page = owner.get(f"/reseller/tickets/{row.ticket_id}").get_data(as_text=True)
    assert 'id="requester-bounce"' not in page
    again = owner.post(f"/reseller/tickets/{row.ticket_id}/requester-mail", follow_redirects=True)
    assert "not marked undeliverable" in again.get_data(as_text=True) or "não está marcado" in again.get_data(
        as_text=True
    )


def test_mail_events_are_told_on_the_timeline(app, run_jobs, factory, tenants, desk_a, ana, owner):
    row = deliver(app, run_jobs, mail())
    with app.app_context():
        ticket = db.session.get(Ticket, row.ticket_id)
        add_event(ticket, EventType.MAIL_AUTO_REPLY, after={"subject": "Ausente até dia 10"})
        add_event(
            ticket,
            EventType.MAIL_BOUNCE,
            after={"address": SENDER, "status": "5.1.1", "permanent": True, "diagnostic": "user unknown"},
        )
        db.session.commit()
    page = owner.get(f"/reseller/tickets/{row.ticket_id}").get_data(as_text=True)
    assert "Ausente até dia 10" in page
    assert 'data-bounce="permanent"' in page and f"{SENDER} (5.1.1: user unknown)" in page


def test_one_desk_at_a_time_takes_mail_to_an_unknown_address(app, factory, tenants, desk_a, owner):
    second = factory.desk(tenants.a.id, name="Vendas", client_ids=[tenants.a.client.id])
    for desk_id in (desk_a.id, second.id):
        form = owner.get(f"/reseller/desks/{desk_id}")
        assert form.status_code == 200
        with app.app_context():
            desk = db.session.get(Desk, desk_id)
            data = {"name": desk.name, "intake_email": desk.intake_email or "", "default_priority": "normal"}
            data |= {"reopen_window_days": "7", "approval_rule": "none", "mail_default": "1"}
        assert owner.post(f"/reseller/desks/{desk_id}", data).status_code == 302
    with app.app_context():
        defaults = db.session.scalars(
            select(Desk.id).where(Desk.reseller_id == tenants.a.id, Desk.mail_default.is_(True))
        ).all()
    assert defaults == [second.id]


def test_an_html_reply_shows_as_html_with_its_inline_image_served_by_us(
    app, run_jobs, factory, tenants, desk_a, ana, owner
):
    ticket, row = gmail_html_reply(app, run_jobs, factory, tenants.a.client.id, desk_a.id)
    with app.app_context():
        image = db.session.scalar(select(TicketAttachment).where(TicketAttachment.entry_id == row.entry_id))
    page = owner.get(f"/reseller/tickets/{ticket.id}").get_data(as_text=True)
    assert "<b>obrigada</b>" in page
    assert f'src="/reseller/tickets/{ticket.id}/attachments/{image.id}"' in page
    assert "alert(1)" not in page and "cid:" not in page
    served = owner.get(f"/reseller/tickets/{ticket.id}/attachments/{image.id}")
    assert served.status_code == 200 and served.data == PNG
    served.close()


def test_the_clients_users_tab_marks_a_dead_address(app, tenants, ana, owner):
    with app.app_context():
        mark_undeliverable(tenants.a.id, SENDER, "5.2.2", "mailbox full")
        db.session.commit()
    page = owner.get(f"/reseller/clients/{tenants.a.client.id}/users").get_data(as_text=True)
    row = page[page.index(f'data-user-id="{ana.id}"') :]
    row = row[: row.index("</tr>")]
    assert "data-undeliverable" in row and "5.2.2" in row and "mailbox full" in row
    assert page.count("data-undeliverable") == 1

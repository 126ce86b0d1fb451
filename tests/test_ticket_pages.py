"""The staff's ticket pages (issue 13): the queue and its filters, the ticket page, the
reply e-mailed on the canonical URL, attachments checked by content and served only to
staff who may see the ticket, and who may reach any of it."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from sqlalchemy import select, update

from auth import permissions as perm
from core.extensions import db
from core.models import Reseller
from desk.models import DeskStaff, TicketStatus
from desk.states import StatusKind
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry
from tenant.models import Client

CANONICAL = "https://atendimento.a.test:8443"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00"


@pytest.fixture
def desk_a(app, factory, tenants):
    """Reseller A's desk "Suporte" serving its client, worked by "agente@a.test"."""
    a = tenants.a
    desk = factory.desk(a.id, name="Suporte", client_ids=[a.client.id])
    agent = factory.staff(a.id, permissions=[perm.DESKS, perm.CLIENTS], email="agente@a.test")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=a.id))
        db.session.commit()
    return desk


def open_one(owner, client_id: int, desk_id: int, subject: str = "Impressora parada") -> int:
    page = owner.get(f"/reseller/clients/{client_id}/tickets/new")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    requester = re.search(r'name="requester_id"[^>]*>\s*<option value="(\d+)"', page.get_data(as_text=True))
    response = owner.post(
        f"/reseller/clients/{client_id}/tickets/new",
        {
            "desk_id": desk_id,
            "requester_id": requester.group(1),
            "subject": subject,
            "description": "Não liga",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_queue_lists_filters_and_pages_the_desks_tickets(app, tenants, desk_a, make_browser):
    owner = make_browser()
    owner.login("owner@a.test")
    ids = [open_one(owner, tenants.a.client.id, desk_a.id, f"Assunto {n}") for n in range(3)]
    page = owner.get("/reseller/tickets")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert all(f'data-ticket-id="{i}"' in body for i in ids)
    assert "Chamados" in body  # the nav item, in pt-BR
    one = owner.get("/reseller/tickets?q=%232").get_data(as_text=True)
    assert one.count("data-ticket-id=") == 1
    partial = owner.get("/reseller/tickets?sort=number&dir=desc", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.get_data(as_text=True).startswith('<div id="results">')
    assert owner.get("/reseller/tickets?status=closed").get_data(as_text=True).count("data-ticket-id=") == 0
    assert owner.get("/reseller/tickets?sort=drop_table").status_code == 400
    assert owner.get(f"/reseller/desks/{desk_a.id}/tickets?priority=normal").status_code == 200
    tab = owner.get(f"/reseller/clients/{tenants.a.client.id}/tickets").get_data(as_text=True)
    assert 'data-tab="tickets"' in tab and tab.count("data-ticket-id=") == 3


def test_the_queue_shows_all_three_deadlines_and_marks_a_passed_one(app, tenants, desk_a, make_browser):
    owner = make_browser()
    owner.login("owner@a.test")
    late, on_time = (open_one(owner, tenants.a.client.id, desk_a.id, f"Assunto {n}") for n in range(2))
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == late).values(first_response_due_at=None))
        past, future = datetime(2020, 1, 1, 12), datetime(2999, 1, 1, 12)
        db.session.execute(update(Ticket).where(Ticket.id == late).values(next_response_due_at=past))
        db.session.execute(update(Ticket).where(Ticket.id == on_time).values(next_response_due_at=future))
        db.session.commit()
    body = owner.get("/reseller/tickets").get_data(as_text=True)
    rows = {int(i): row for i, row in re.findall(r'<tr data-ticket-id="(\d+)">(.*?)</tr>', body, re.S)}
    cells = {i: re.findall(r'data-due="(\w+)"([^>]*)>(.*?)</td>', row, re.S) for i, row in rows.items()}
    assert [c[0] for c in cells[late]] == ["first_response", "next_response", "resolution"]
    late_next, on_time_next = cells[late][1], cells[on_time][1]
    assert (
        'data-clock-state="breached"' in late_next[1]
        and "01/01/2020" in late_next[2]
        and "(Estourado)" in late_next[2]
    )
    assert "data-clock-state" not in on_time_next[1] and "01/01/2999" in on_time_next[2]
    assert cells[late][0][2].strip() == "—"  # no first-response deadline: a dash, not a date


def test_the_queues_rows_keep_names_and_subjects_as_text_and_label_each_state(
    app, tenants, desk_a, make_browser
):
    """The rows are written in Python (desk.views.ticket_rows): every value escaped, each
    badge in the page's language, each ticket linked to its own page."""
    owner = make_browser()
    owner.login("owner@a.test")
    hostile = '<img src=x onerror="alert(1)"> & "aspas"'
    ticket_id = open_one(owner, tenants.a.client.id, desk_a.id, hostile)
    with app.app_context():
        db.session.execute(update(Client).where(Client.id == tenants.a.client.id).values(trade_name=hostile))
        status = db.session.scalar(
            select(TicketStatus).where(TicketStatus.reseller_id == tenants.a.id, TicketStatus.kind == "open")
        )
        status.name = "<b>Aberto</b>"
        db.session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(status_id=status.id, status_kind="open")
        )
        db.session.commit()
    body = owner.get("/reseller/tickets").get_data(as_text=True)
    row = re.search(rf'<tr data-ticket-id="{ticket_id}">(.*?)</tr>', body, re.S).group(1)
    assert "<img" not in row and "<b>" not in row
    escaped = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &#34;aspas&#34;"
    assert row.count(escaped) == 2  # the subject and the client
    assert f'href="/reseller/tickets/{ticket_id}" data-ticket-link' in row
    assert 'data-status="open">&lt;b&gt;Aberto&lt;/b&gt;</span>' in row
    assert '<span class="badge text-bg-secondary">Normal</span>' in row
    assert 'data-sla="ok">No prazo</span>' in row
    owner.post("/lang", {"lang": "en", "next": "/reseller/tickets"})
    english = owner.get("/reseller/tickets").get_data(as_text=True)
    assert 'data-sla="ok">On time</span>' in english


def test_the_ticket_page_changes_and_bulk_actions(app, tenants, desk_a, make_browser):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    with app.app_context():
        statuses = {
            s.kind: s.id
            for s in db.session.scalars(select(TicketStatus).where(TicketStatus.reseller_id == tenants.a.id))
        }
    page = agent.get(f"/reseller/tickets/{ticket_id}")
    assert page.status_code == 200 and "#1" in page.get_data(as_text=True)
    agent.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "Nota interna", "internal": "1"})
    agent.post(f"/reseller/tickets/{ticket_id}/status", {"status_id": statuses[StatusKind.WAITING_ON_CLIENT]})
    agent.post(f"/reseller/tickets/{ticket_id}/priority", {"priority": "high"})
    agent.post(f"/reseller/tickets/{ticket_id}/assign", {"assignee_id": "me"})
    agent.post(f"/reseller/tickets/{ticket_id}/follow", {})
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert (ticket.status_kind, ticket.priority) == (StatusKind.WAITING_ON_CLIENT, "high")
        assert ticket.assignee_account_id is not None
    page = agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    assert "internal-note" in page
    agent.post("/reseller/tickets/bulk", {"ticket_ids": [ticket_id], "action": "close"})
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status_kind == StatusKind.CLOSED


def test_a_public_reply_is_emailed_on_the_canonical_url(
    app, tenants, desk_a, make_browser, mailbox, run_jobs
):
    with app.app_context():
        db.session.execute(
            update(Reseller).where(Reseller.id == tenants.a.id).values(canonical_url=CANONICAL)
        )
        db.session.commit()
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    mailbox.clear()
    agent.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "Note interna", "internal": "1"})
    run_jobs()
    assert mailbox.messages == []  # a note is never e-mailed
    agent.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "Reinicie a impressora."})
    run_jobs()
    with app.app_context():
        requester_email = db.session.get(Client, tenants.a.client.id).email
    (message,) = mailbox.messages
    assert message["to"] == [requester_email]  # the requester; not the author
    assert "Reinicie a impressora." in message["text"]
    links = re.findall(r"https?://[^\s<>\"']+", message["text"])
    assert links and all(link.startswith(CANONICAL + "/") for link in links)
    # The requester's link opens the ticket in the client portal.
    assert f"{CANONICAL}/app/tickets/{ticket_id}" in links


def test_attachments_are_checked_by_content_and_served_only_to_the_desks_staff(
    app, factory, tenants, desk_a, make_browser
):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    refused = agent.post(
        f"/reseller/tickets/{ticket_id}/reply",
        {"body": "Programa", "files": (io.BytesIO(PE), "foto.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(select(TicketAttachment.id).where(TicketAttachment.ticket_id == ticket_id))
            is None
        )
        assert db.session.scalar(select(TicketEntry.id).where(TicketEntry.body == "Programa")) is None
    agent.post(
        f"/reseller/tickets/{ticket_id}/reply",
        {"body": "Foto", "files": (io.BytesIO(b"hello, world\n"), "nota.txt")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        attachment = db.session.scalar(
            select(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id)
        )
        assert attachment is not None and attachment.content_type.startswith("text/plain")
    url = f"/reseller/tickets/{ticket_id}/attachments/{attachment.id}"
    served = agent.get(url)
    assert served.status_code == 200 and served.data == b"hello, world\n"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()
    # Staff with the permission who do not work the desk see neither the file nor the page.
    factory.staff(tenants.a.id, permissions=[perm.DESKS], email="outra@a.test")
    other = make_browser()
    other.login("outra@a.test")
    assert other.get(url).status_code == 404
    assert other.get(f"/reseller/tickets/{ticket_id}").status_code == 404
    assert f'data-ticket-id="{ticket_id}"' not in other.get("/reseller/tickets").get_data(as_text=True)
    # Staff without the permission: 403; a client user: 403.
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem@a.test")
    without = make_browser()
    without.login("sem@a.test")
    assert without.get("/reseller/tickets").status_code == 403
    assert without.get(url).status_code == 403
    user = make_browser()
    factory.user(tenants.a.client.id, email="gente@alpha.test")
    user.login("gente@alpha.test")
    assert user.get(url).status_code == 403
    assert user.get("/reseller/tickets").status_code == 403


def test_another_resellers_ticket_is_a_404(app, factory, tenants, desk_a, make_browser):
    b = tenants.b
    desk_b = factory.desk(b.id, name="Suporte B", client_ids=[b.client.id])
    ticket_b = factory.ticket(b.client.id, desk_id=desk_b.id)
    owner = make_browser()
    owner.login("owner@a.test")
    assert owner.get(f"/reseller/tickets/{ticket_b.id}").status_code == 404
    assert owner.get(f"/reseller/desks/{desk_b.id}/tickets").status_code == 404
    assert owner.post(f"/reseller/tickets/{ticket_b.id}/reply", {"body": "x"}).status_code == 404
    owner.post("/reseller/tickets/bulk", {"ticket_ids": [ticket_b.id], "action": "close"})
    with app.app_context():
        assert db.session.get(Ticket, ticket_b.id).status_kind == StatusKind.OPEN


def test_staff_logged_in_as_a_user_reach_no_ticket_page(app, factory, tenants, desk_a, make_browser):
    """While logged in as a client user, staff have exactly the user's rights: none here."""
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    user = factory.user(tenants.a.client.id, email="gente@alpha.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS, perm.DESKS], email="imp@a.test")
    impersonator = make_browser()
    impersonator.login("imp@a.test")
    started = impersonator.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as")
    assert started.headers["Location"] == "/app/"
    for path in (
        "/reseller/tickets",
        f"/reseller/tickets/{ticket_id}",
        f"/reseller/desks/{desk_a.id}/tickets",
    ):
        assert impersonator.get(path).status_code == 403, path
    assert impersonator.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "x"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(TicketEntry.id).where(TicketEntry.body == "x")) is None

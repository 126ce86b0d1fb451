"""The client's tickets in the portal (issue 15): open on a linked desk only, with the
desk's client fields and files; the list and its filters; the page's public timeline
(never an internal note or its file); replies; followers from the same client; who
sees what (own and followed, or every ticket with *see all the client's tickets*); the
*portal* permission; the defaults of a new user and of the responsible user."""

from __future__ import annotations

import re
from io import BytesIO

from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from desk.fields import add_field
from desk.models import Desk
from desk.replies import note_with_files
from desk.review_models import TicketApproval
from desk.states import ApprovalRule, ApprovalState, ClientVisibility, EntryKind, FieldType, StatusKind
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry, TicketFollower
from tenant.models import Client


def user_browser(app, factory, make_browser, client_id, email, permissions=(perm.PORTAL,)):
    account = factory.user(client_id, email=email, name=email.split("@")[0].title())
    with app.app_context():
        db.session.get(Account, account.id).permissions = list(permissions)
        db.session.commit()
    browser = make_browser()
    browser.login(email)
    browser.account_id = account.id
    return browser


def open_ticket(browser, desk_id, subject="Impressora parada", **extra):
    data = {"desk_id": str(desk_id), "subject": subject, "description": "Não imprime.", **extra}
    return browser.post("/app/tickets/new", data)


def ticket_of(app, subject) -> Ticket:
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.subject == subject))
        db.session.expunge(ticket)
        return ticket


def opened_by_ana(app, factory, tenants, make_browser, subject):
    """A desk of client A, its user Ana, and a ticket she opened there."""
    desk = factory.desk(tenants.a.id, client_ids=[tenants.a.client.id])
    browser = user_browser(app, factory, make_browser, tenants.a.client.id, "ana@alpha.test")
    open_ticket(browser, desk.id, subject=subject)
    return desk, browser, ticket_of(app, subject)


def test_a_user_opens_a_ticket_with_a_client_field_and_a_file(app, factory, tenants, make_browser):
    client_id = tenants.a.client.id
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[client_id])
    other_desk = factory.desk(tenants.a.id, name="Vendas")  # not linked to the client
    with app.app_context():
        add_field(
            db.session.get(Desk, desk.id),
            label="Equipamento",
            field_type=FieldType.TEXT,
            visibility=ClientVisibility.EDITABLE,
            required=True,
        )
        add_field(
            db.session.get(Desk, desk.id),
            label="Custo interno",
            field_type=FieldType.TEXT,
            visibility=ClientVisibility.INTERNAL,
        )
        db.session.commit()
    browser = user_browser(app, factory, make_browser, client_id, "ana@alpha.test")
    form = browser.get(f"/app/tickets/new?desk_id={desk.id}").get_data(as_text=True)
    assert "Suporte" in form and "Vendas" not in form
    assert 'name="field_equipamento"' in form and "field_custo_interno" not in form
    assert 'id="entitled-sla"' in form

    missing = open_ticket(browser, desk.id)
    assert missing.status_code == 422
    refused = open_ticket(browser, other_desk.id, field_equipamento="HP")
    assert refused.status_code == 422 and "Escolha uma das mesas" in refused.get_data(as_text=True)
    sneaky = open_ticket(browser, desk.id, field_equipamento="HP", field_custo_interno="100")
    assert sneaky.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Ticket.id).where(Ticket.client_id == client_id)) is None

    opened = browser.post(
        "/app/tickets/new",
        {
            "desk_id": str(desk.id),
            "subject": "Impressora parada",
            "description": "Não imprime.",
            "field_equipamento": "HP 1020",
            "files": (BytesIO(b"%PDF-1.4 nota"), "nota.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert opened.status_code == 303
    ticket = ticket_of(app, "Impressora parada")
    assert opened.headers["Location"].endswith(f"/app/tickets/{ticket.id}")
    assert ticket.requester_account_id == browser.account_id and ticket.desk_id == desk.id
    assert ticket.field_values == {"equipamento": "HP 1020"}
    page = browser.get(f"/app/tickets/{ticket.id}").get_data(as_text=True)
    assert "Impressora parada" in page and "HP 1020" in page
    [link] = re.findall(rf'href="(/app/tickets/{ticket.id}/files/\d+)"', page)
    download = browser.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 nota"
    download.close()


def test_the_timeline_hides_internal_notes_and_their_files(app, factory, tenants, make_browser):
    _desk, browser, ticket = opened_by_ana(app, factory, tenants, make_browser, "Nota interna")
    staff_id = factory.staff(tenants.a.id, permissions=[perm.DESKS]).id
    with app.app_context():
        row = db.session.get(Ticket, ticket.id)
        upload = type(
            "Upload", (), {"filename": "segredo.txt", "stream": BytesIO(b"segredo"), "headers": None}
        )
        note_with_files(row, "Cliente difícil, cobrar a mais", db.session.get(Account, staff_id), [upload])
        db.session.commit()
        secret = db.session.scalar(
            select(TicketAttachment.id).where(TicketAttachment.filename == "segredo.txt")
        )
    page = browser.get(f"/app/tickets/{ticket.id}").get_data(as_text=True)
    assert "Cliente difícil" not in page and "segredo.txt" not in page
    assert browser.get(f"/app/tickets/{ticket.id}/files/{secret}").status_code == 404


def test_replies_reopen_a_finished_ticket_and_followers_come_from_the_client(
    app, factory, tenants, make_browser
):
    client_id = tenants.a.client.id
    desk = factory.desk(tenants.a.id, client_ids=[client_id])
    browser = user_browser(app, factory, make_browser, client_id, "ana@alpha.test")
    colleague = factory.user(client_id, email="bia@alpha.test", name="Bia")
    outsider = factory.user(factory.client(tenants.a.id, trade_name="Vizinha").id, email="x@viz.test")
    open_ticket(browser, desk.id, subject="Seguir")
    ticket = ticket_of(app, "Seguir")

    assert browser.post(f"/app/tickets/{ticket.id}/reply", {"body": ""}).status_code == 303
    with app.app_context():
        replies = select(TicketEntry).where(
            TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.PUBLIC_REPLY
        )
        assert db.session.scalars(replies).all() == []  # an empty reply is refused
    browser.post(f"/app/tickets/{ticket.id}/reply", {"body": "Ainda não imprime."})
    with app.app_context():
        [reply] = db.session.scalars(replies).all()
        assert reply.author_account_id == browser.account_id

    refused = browser.post(
        f"/app/tickets/{ticket.id}/followers", {"account_id": [str(colleague.id), str(outsider.id)]}
    )
    assert refused.status_code == 303
    with app.app_context():
        assert (
            db.session.scalars(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id)).all()
            == []
        )
    browser.post(f"/app/tickets/{ticket.id}/followers", {"account_id": str(colleague.id)})
    with app.app_context():
        followers = db.session.scalars(
            select(TicketFollower.account_id).where(TicketFollower.ticket_id == ticket.id)
        ).all()
        assert followers == [colleague.id]
    # The follower now sees the ticket it did not open.
    bia = make_browser()
    bia.login("bia@alpha.test")
    assert bia.get(f"/app/tickets/{ticket.id}").status_code == 200


def test_a_user_sees_its_own_tickets_and_a_supervisor_all(app, factory, tenants, make_browser):
    client_id = tenants.a.client.id
    desk = factory.desk(tenants.a.id, client_ids=[client_id])
    ana = user_browser(app, factory, make_browser, client_id, "ana@alpha.test")
    bia = user_browser(app, factory, make_browser, client_id, "bia@alpha.test")
    chefe = user_browser(
        app, factory, make_browser, client_id, "chefe@alpha.test", permissions=(perm.PORTAL, perm.ALL_TICKETS)
    )
    open_ticket(ana, desk.id, subject="Da Ana")
    open_ticket(bia, desk.id, subject="Da Bia")
    ana_ticket, bia_ticket = ticket_of(app, "Da Ana"), ticket_of(app, "Da Bia")

    listing = ana.get("/app/tickets").get_data(as_text=True)
    assert "Da Ana" in listing and "Da Bia" not in listing
    assert ana.get(f"/app/tickets/{bia_ticket.id}").status_code == 404
    assert ana.post(f"/app/tickets/{bia_ticket.id}/reply", {"body": "oi"}).status_code == 404
    everything = chefe.get("/app/tickets").get_data(as_text=True)
    assert "Da Ana" in everything and "Da Bia" in everything
    assert chefe.get(f"/app/tickets/{ana_ticket.id}").status_code == 200
    mine = chefe.get("/app/tickets?mine=1").get_data(as_text=True)
    assert "Da Ana" not in mine and 'id="no-tickets"' in mine
    assert "Da Bia" in chefe.get("/app/tickets?q=bia").get_data(as_text=True)
    assert "Da Ana" not in chefe.get("/app/tickets?q=bia").get_data(as_text=True)

    with app.app_context():
        row = db.session.get(Ticket, ana_ticket.id)
        row.status_kind = StatusKind.CLOSED
        db.session.commit()
    assert "Da Ana" not in chefe.get("/app/tickets").get_data(as_text=True)
    assert "Da Ana" in chefe.get("/app/tickets?state=finished").get_data(as_text=True)


def test_without_the_portal_permission_the_pages_are_refused(app, factory, tenants, make_browser):
    desk, ana, ticket = opened_by_ana(app, factory, tenants, make_browser, "Sem portal")
    with app.app_context():
        db.session.get(Account, ana.account_id).permissions = []
        db.session.commit()
    assert ana.get("/app/tickets").status_code == 403
    assert ana.get(f"/app/tickets/{ticket.id}").status_code == 403
    assert open_ticket(ana, desk.id, subject="Outro").status_code == 403
    assert 'href="/app/tickets"' not in ana.get("/app/").get_data(as_text=True)


def test_new_users_hold_the_portal_and_the_responsible_user_reports_and_every_ticket(
    app, factory, tenants, make_browser
):
    owner = make_browser()
    owner.login("owner@a.test")
    user = factory.user(tenants.a.client.id, email="nova@alpha.test")
    with app.app_context():
        assert db.session.get(Account, user.id).permissions == [perm.PORTAL]
    form = owner.get(f"/reseller/clients/{tenants.a.client.id}/users/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="portal"|<input[^>]*value="portal"[^>]*checked', form)
    assert not re.search(r'<input[^>]*value="reports"[^>]*checked', form)
    created = owner.post(
        "/reseller/clients/new",
        {
            "trade_name": "Padaria Nova",
            "legal_name": "Padaria Nova Ltda",
            "email": "dono@padaria.test",
            "document_type": "cpf",
            "document": "52998224725",
        },
    )
    assert created.status_code in (302, 303)
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.trade_name == "Padaria Nova"))
        responsible = db.session.get(Account, client.responsible_account_id)
        assert set(responsible.permissions) == {perm.PORTAL, perm.REPORTS, perm.ALL_TICKETS}


def test_opening_tickets_is_throttled_per_user(app, factory, tenants, make_browser):
    desk, ana, _ticket = opened_by_ana(app, factory, tenants, make_browser, "Primeiro")
    answers = [open_ticket(ana, desk.id, subject=f"Chamado {n}").status_code for n in range(2, 22)]
    assert answers[:19] == [303] * 19 and answers[19] == 429
    with app.app_context():
        count = select(func.count()).select_from(Ticket).where(Ticket.client_id == tenants.a.client.id)
        assert db.session.scalar(count) == 20


def test_a_ticket_opened_on_a_desk_that_wants_approval_asks_the_supervisors(
    app, factory, tenants, make_browser
):
    client_id = tenants.a.client.id
    desk = factory.desk(tenants.a.id, client_ids=[client_id], approval_rule=ApprovalRule.ANY)
    chefe = factory.user(client_id, email="chefe@alpha.test", name="Chefe")
    with app.app_context():
        db.session.get(Account, chefe.id).permissions = [perm.PORTAL, perm.ALL_TICKETS]
        db.session.commit()
    ana = user_browser(app, factory, make_browser, client_id, "ana@alpha.test")
    assert open_ticket(ana, desk.id, subject="Compra de licença").status_code == 303
    ticket = ticket_of(app, "Compra de licença")
    assert ticket.status_kind == StatusKind.WAITING_ON_CLIENT
    with app.app_context():
        approval = db.session.scalar(select(TicketApproval).where(TicketApproval.ticket_id == ticket.id))
        assert approval.state == ApprovalState.PENDING
        assert chefe.id in [vote.account_id for vote in approval.votes]

"""A desk is a boundary: staff who do not work it neither see nor change it, nor read its
tickets' replies by e-mail; a desk agent sees only the clients its desks serve; ticket field
values are checked; a reply's attachments fit its body limit (security review, issue 13)."""

from __future__ import annotations

import gc
import io

import pytest
from sqlalchemy import select

from auth import permissions as perm
from core.extensions import db
from desk.models import DeskField, DeskStaff
from desk.ticket_models import Ticket, TicketAttachment
from tests.test_ticket_pages import open_one

DESK_FORM = {
    "name": "Suporte",
    "intake_email": "",
    "default_priority": "normal",
    "sla_policy_id": "",
    "calendar_id": "",
    "reopen_window_days": "7",
    "review_timeout_days": "",
    "approval_rule": "none",
    "approvals_needed": "",
}


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


def _desk_staff(app, desk_id: int) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(DeskStaff.account_id).where(DeskStaff.desk_id == desk_id)))


def test_staff_who_do_not_work_a_desk_cannot_see_it_or_add_themselves(
    app, factory, tenants, desk_a, make_browser
):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    agent.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "Nota interna", "internal": "1"})
    outsider = factory.staff(tenants.a.id, permissions=[perm.DESKS], email="outra@a.test")
    other = make_browser()
    other.login("outra@a.test")
    before = _desk_staff(app, desk_a.id)
    assert other.get(f"/reseller/desks/{desk_a.id}").status_code == 404
    wanted = {**DESK_FORM, "staff_ids": [str(i) for i in before | {outsider.id}]}
    assert other.post(f"/reseller/desks/{desk_a.id}", wanted).status_code == 404
    assert other.post(f"/reseller/desks/{desk_a.id}/archive").status_code == 404
    assert _desk_staff(app, desk_a.id) == before
    assert other.get(f"/reseller/tickets/{ticket_id}").status_code == 404


def test_only_the_owner_or_staff_settings_choose_who_works_a_desk(
    app, factory, tenants, desk_a, make_browser
):
    colleague = factory.staff(tenants.a.id, permissions=[perm.DESKS], email="colega@a.test")
    agent = make_browser()
    agent.login("agente@a.test")  # works the desk, holds no *staff and settings*
    before = _desk_staff(app, desk_a.id)
    wanted = {**DESK_FORM, "staff_ids": [str(i) for i in before | {colleague.id}]}
    assert agent.post(f"/reseller/desks/{desk_a.id}", wanted).status_code == 302
    assert _desk_staff(app, desk_a.id) == before
    # A desk the agent creates is worked by the agent alone, whatever the form says.
    created = agent.post(
        "/reseller/desks/new", {**DESK_FORM, "name": "Vendas", "staff_ids": [str(colleague.id)]}
    )
    assert created.status_code == 302
    new_id = int(created.headers["Location"].split("/reseller/desks/")[1].split("/")[0])
    agent_id = next(iter(before))
    assert _desk_staff(app, new_id) == {agent_id}
    owner = make_browser()
    owner.login("owner@a.test")
    assert owner.post(f"/reseller/desks/{desk_a.id}", wanted).status_code == 302
    assert _desk_staff(app, desk_a.id) == before | {colleague.id}


def test_ticket_field_values_are_checked(app, tenants, desk_a, make_browser):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    with app.app_context():
        db.session.add(
            DeskField(
                reseller_id=tenants.a.id,
                desk_id=desk_a.id,
                key="plano",
                label="Plano",
                field_type="select",
                options=["Ouro", "Prata"],
                required=True,
            )
        )
        db.session.commit()
    for refused in ("Bronze", "X" * 5000, ""):
        agent.post(f"/reseller/tickets/{ticket_id}/fields", {"field_plano": refused})
        with app.app_context():
            assert (db.session.get(Ticket, ticket_id).field_values or {}).get("plano") != refused
    agent.post(f"/reseller/tickets/{ticket_id}/fields", {"field_plano": "Prata"})
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).field_values["plano"] == "Prata"


def test_staff_taken_off_a_desk_no_longer_get_its_replies(
    app, tenants, desk_a, make_browser, mailbox, settle
):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    agent.post(f"/reseller/tickets/{ticket_id}/follow", {})
    with app.app_context():
        db.session.execute(DeskStaff.__table__.delete().where(DeskStaff.desk_id == desk_a.id))
        db.session.commit()
    owner = make_browser()
    owner.login("owner@a.test")
    mailbox.clear()
    assert (
        owner.post(f"/reseller/tickets/{ticket_id}/reply", {"body": "Resposta ao cliente"}).status_code == 302
    )
    settle()
    assert mailbox.to("agente@a.test") == []


def test_a_desk_agent_sees_only_the_clients_its_desks_serve(factory, tenants, desk_a, make_browser):
    elsewhere = factory.client(tenants.a.id)
    factory.staff(tenants.a.id, permissions=[perm.DESKS], email="so-mesas@a.test")
    agent = make_browser()
    agent.login("so-mesas@a.test")
    assert agent.get(f"/reseller/clients/{elsewhere.id}/tickets").status_code == 404
    assert agent.get(f"/reseller/clients/{elsewhere.id}/tickets/new").status_code == 404


# The test client spools a body this large to a temporary file it leaves to the garbage
# collector: collected here (below), under these filters, not during a later test.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_reply_takes_attachments_above_the_default_body_limit(app, tenants, desk_a, make_browser):
    agent = make_browser()
    agent.login("agente@a.test")
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    nine_mb = io.BytesIO(b"linha de texto\n" * (9 * 1024 * 1024 // 15))
    response = agent.post(
        f"/reseller/tickets/{ticket_id}/reply",
        {"body": "Segue o log", "files": (nine_mb, "log.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        stored = select(TicketAttachment.filename).where(TicketAttachment.ticket_id == ticket_id)
        names = list(db.session.scalars(stored))
    assert names == ["log.txt"]
    del response, nine_mb
    gc.collect()

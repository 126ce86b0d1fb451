"""Tickets opened, answered, noted and changed through the API (issue 16), by the staff's
rules: the reply e-mailed to the requester, the timeline and the audit log naming the API
client, the desk's approval and review rules, idempotent POSTs; bad input a 422 naming
it and changing nothing, a refusal of the ticket's state a 409."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auth.models import Account
from core.extensions import db
from core.models import AuditEvent
from desk.models import DeskField, DeskStaff, TicketStatus
from desk.review_models import TicketApproval
from desk.states import ApprovalRule, ApprovalState, FieldType, StatusKind
from desk.ticket_models import Ticket, TicketEntry
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes, name="ERP Integrado")
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def desk_a(app, factory, tenants):
    """A's desk "Suporte" serving its client, with a select field, worked by an agent."""
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id])
    agent = factory.staff(tenants.a.id, email="agente@a.test")
    with app.app_context():
        db.session.add_all(
            [
                DeskField(
                    reseller_id=tenants.a.id,
                    desk_id=desk.id,
                    key="modulo",
                    label="Módulo",
                    field_type=FieldType.SELECT,
                    options=["Fiscal", "Estoque"],
                ),
                DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=tenants.a.id),
            ]
        )
        db.session.commit()
    desk.agent_id = agent.id
    return desk


def new_ticket(tenants, desk, **extra) -> dict:
    client = tenants.a.client
    return {
        "client_id": client.id,
        "requester_id": client.responsible_account_id,
        "desk_id": desk.id,
        "subject": "Impressora parada",
        "description": "Não liga.",
        **extra,
    }


def counts(app) -> tuple[int, int]:
    with app.app_context():
        tickets = db.session.scalar(select(func.count()).select_from(Ticket))
        entries = db.session.scalar(select(func.count()).select_from(TicketEntry))
        return tickets, entries


def ticket_row(app, ticket_id: int) -> Ticket:
    with app.app_context():
        row = db.session.get(Ticket, ticket_id)
        db.session.expunge(row)
        return row


def test_open_a_ticket_by_the_staffs_rule_replayed_by_its_key(app, tenants, desk_a):
    api = caller(app, tenants.a.id)
    body = new_ticket(tenants, desk_a, priority="high", custom_fields={"modulo": "Fiscal"})
    response = api.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "abre-1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{ticket['id']}")
    assert (ticket["priority"], ticket["status"]["kind"]) == ("high", "new")
    assert ticket["custom_fields"] == {"modulo": "Fiscal"}
    assert ticket["requester"]["id"] == tenants.a.client.responsible_account_id
    assert ticket["sla"]["state"] == "ok"
    before = counts(app)
    again = api.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "abre-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == ticket["id"] and counts(app) == before
    other = api.post(
        "/api/v1/tickets", json={**body, "subject": "Outro"}, headers={"Idempotency-Key": "abre-1"}
    )
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "ticket.created", AuditEvent.object_id == str(ticket["id"])
            )
        )
    assert event.actor_label == "ERP Integrado" and event.api_client_id is not None
    timeline = api.get(f"/api/v1/tickets/{ticket['id']}/timeline").get_json()["data"]
    assert timeline[0]["author"] == {"type": "api_client", "id": None, "name": "ERP Integrado"}


def test_a_ticket_on_a_desk_with_approval_waits_for_it(app, factory, tenants):
    desk = factory.desk(
        tenants.a.id, name="Compras", client_ids=[tenants.a.client.id], approval_rule=ApprovalRule.ANY
    )
    response = caller(app, tenants.a.id).post("/api/v1/tickets", json=new_ticket(tenants, desk))
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        approval = db.session.scalar(
            select(TicketApproval).where(TicketApproval.ticket_id == response.get_json()["id"])
        )
    assert approval is not None and approval.state == ApprovalState.PENDING
    # While it waits, the status does not move: the ticket's state refuses it (409).
    open_status = _status(app, tenants.a.id, StatusKind.OPEN)
    refused = caller(app, tenants.a.id).patch(
        f"/api/v1/tickets/{response.get_json()['id']}", json={"status_id": open_status}
    )
    assert refused.status_code == 409 and refused.get_json()["code"] == "ticket_refused"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"subject": "  "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"requester_id": 999_999}, "requester_id"),
        ({"desk_id": 999_999}, "desk_id"),
        ({"client_id": 999_999}, "client_id"),
        ({"custom_fields": {"modulo": "Vendas"}}, "custom_fields.modulo"),
        ({"custom_fields": {"cor": "azul"}}, "custom_fields.cor"),
        ({"priority": "altissima"}, "priority"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_opens_nothing_and_names_the_parameter(app, tenants, desk_a, change, param):
    before = counts(app)
    response = caller(app, tenants.a.id).post("/api/v1/tickets", json=new_ticket(tenants, desk_a, **change))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["param"] == param
    assert counts(app) == before


def test_another_resellers_client_desk_or_user_opens_nothing(app, factory, tenants, desk_a):
    b = tenants.b
    b_desk = factory.desk(b.id, name="Mesa B", client_ids=[b.client.id])
    api = caller(app, tenants.a.id)
    before = counts(app)
    for change, param in (
        ({"client_id": b.client.id}, "client_id"),
        ({"desk_id": b_desk.id}, "desk_id"),
        ({"requester_id": b.client.responsible_account_id}, "requester_id"),
    ):
        response = api.post("/api/v1/tickets", json=new_ticket(tenants, desk_a, **change))
        assert (response.status_code, response.get_json()["param"]) == (422, param)
    other_client = factory.client(tenants.a.id, trade_name="Sem Mesa")
    response = api.post(
        "/api/v1/tickets",
        json=new_ticket(
            tenants, desk_a, client_id=other_client.id, requester_id=other_client.responsible_account_id
        ),
    )
    assert (response.status_code, response.get_json()["param"]) == (422, "desk_id")
    # As the staff's form: an inactive user of the client is no requester.
    gone = factory.user(tenants.a.client.id, name="Inativa")
    with app.app_context():
        db.session.get(Account, gone.id).active = False
        db.session.commit()
    response = api.post("/api/v1/tickets", json=new_ticket(tenants, desk_a, requester_id=gone.id))
    assert (response.status_code, response.get_json()["param"]) == (422, "requester_id")
    assert counts(app) == before


def test_a_reply_is_emailed_and_the_timeline_names_the_api_client(
    app, tenants, desk_a, mailbox, run_jobs, make_browser
):
    api = caller(app, tenants.a.id)
    ticket_id = api.post("/api/v1/tickets", json=new_ticket(tenants, desk_a)).get_json()["id"]
    run_jobs()
    mailbox.clear()
    reply = api.post(
        f"/api/v1/tickets/{ticket_id}/replies",
        json={"body": "Reinicie a impressora."},
        headers={"Idempotency-Key": "resposta-1"},
    )
    assert reply.status_code == 201, reply.get_data(as_text=True)
    entry = reply.get_json()
    assert entry["kind"] == "public_reply" and entry["author"]["name"] == "ERP Integrado"
    replay = api.post(
        f"/api/v1/tickets/{ticket_id}/replies",
        json={"body": "Reinicie a impressora."},
        headers={"Idempotency-Key": "resposta-1"},
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json()["id"] == entry["id"]
    run_jobs()
    (message,) = mailbox.messages
    assert message["to"] == [tenants.a.client.email] and "Reinicie a impressora." in message["text"]
    assert ticket_row(app, ticket_id).status_kind == StatusKind.OPEN  # answered by staff: opened
    note = api.post(f"/api/v1/tickets/{ticket_id}/notes", json={"body": "Cliente sem toner."})
    assert note.status_code == 201 and note.get_json()["kind"] == "internal_note"
    run_jobs()
    assert len(mailbox.messages) == 1  # a note is never e-mailed
    with app.app_context():
        audited = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "ticket.reply", AuditEvent.object_id == str(ticket_id)
            )
        )
    assert audited.actor_label == "ERP Integrado" and audited.actor_account_id is None
    owner = make_browser()
    owner.login("owner@a.test")
    page = owner.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    assert "ERP Integrado" in page and "Reinicie a impressora." in page and "Cliente sem toner." in page


def test_an_empty_reply_or_note_is_a_422_and_writes_nothing(app, factory, tenants, desk_a):
    ticket = factory.ticket(tenants.a.client.id, desk_a.id)
    api = caller(app, tenants.a.id)
    before = counts(app)
    for path, label in (("replies", "Resposta"), ("notes", "Nota")):
        response = api.post(
            f"/api/v1/tickets/{ticket.id}/{path}", json={"body": "   "}, headers={"Accept-Language": "pt-BR"}
        )
        assert (response.status_code, response.get_json()["param"]) == (422, "body")
        assert response.get_json()["detail"] == f"{label} é obrigatório."
    assert counts(app) == before
    merged = factory.ticket(tenants.a.client.id, desk_a.id, kind=StatusKind.MERGED)
    before = counts(app)
    refused = api.post(f"/api/v1/tickets/{merged.id}/replies", json={"body": "Olá"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "ticket_refused"
    assert counts(app) == before
    reader = caller(app, tenants.a.id, ["tickets:read"])
    scope = reader.post(f"/api/v1/tickets/{ticket.id}/replies", json={"body": "Olá"})
    assert scope.status_code == 403 and scope.get_json()["code"] == "insufficient_scope"


def _status(app, reseller_id: int, kind: StatusKind) -> int:
    with app.app_context():
        return db.session.scalar(
            select(TicketStatus.id).where(
                TicketStatus.reseller_id == reseller_id, TicketStatus.kind == kind, TicketStatus.is_default
            )
        )


def test_change_status_priority_assignee_and_fields_by_the_ticket_pages_rules(app, factory, tenants, desk_a):
    ticket = factory.ticket(tenants.a.client.id, desk_a.id)
    api = caller(app, tenants.a.id)
    waiting = _status(app, tenants.a.id, StatusKind.WAITING_ON_CLIENT)
    response = api.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={
            "status_id": waiting,
            "priority": "urgent",
            "assignee_id": desk_a.agent_id,
            "custom_fields": {"modulo": "Estoque"},
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"]["kind"], body["priority"]) == ("waiting_on_client", "urgent")
    assert body["assignee"]["id"] == desk_a.agent_id and body["custom_fields"] == {"modulo": "Estoque"}
    # A desk with review: a resolution goes to the client's review.
    resolved = api.patch(
        f"/api/v1/tickets/{ticket.id}", json={"status_id": _status(app, tenants.a.id, StatusKind.RESOLVED)}
    )
    assert resolved.get_json()["status"]["kind"] == "pending_review"
    unassigned = api.patch(f"/api/v1/tickets/{ticket.id}", json={"assignee_id": None})
    assert unassigned.status_code == 200 and unassigned.get_json()["assignee"] is None


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"status_id": 999_999}, "status_id"),
        ({"assignee_id": 999_999}, "assignee_id"),
        ({"custom_fields": {"modulo": "Vendas"}}, "custom_fields.modulo"),
        ({"priority": "altissima"}, "priority"),
        ({"status_id": "aberto"}, "status_id"),
    ],
)
def test_a_bad_change_is_a_422_and_changes_nothing(app, factory, tenants, desk_a, change, param):
    ticket = factory.ticket(tenants.a.client.id, desk_a.id)
    before = ticket_row(app, ticket.id)
    response = caller(app, tenants.a.id).patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"priority": "low", **change} if "priority" not in change else change,
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["param"] == param
    after = ticket_row(app, ticket.id)
    assert (after.priority, after.status_id, after.assignee_account_id, after.field_values) == (
        before.priority,
        before.status_id,
        before.assignee_account_id,
        before.field_values,
    )


def test_another_resellers_status_or_staff_changes_nothing(app, factory, tenants, desk_a):
    ticket = factory.ticket(tenants.a.client.id, desk_a.id)
    b_staff = factory.staff(tenants.b.id)
    api = caller(app, tenants.a.id)
    for change, param in (
        ({"status_id": _status(app, tenants.b.id, StatusKind.CLOSED)}, "status_id"),
        ({"assignee_id": b_staff.id}, "assignee_id"),
    ):
        response = api.patch(f"/api/v1/tickets/{ticket.id}", json=change)
        assert (response.status_code, response.get_json()["param"]) == (422, param)
    assert ticket_row(app, ticket.id).status_kind == StatusKind.OPEN

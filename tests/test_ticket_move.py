"""Moving a ticket to another desk (issue 13): only to a desk of the reseller that the
staff member works and that serves the ticket's client; the assignee stays only if they
work the new desk, fields the new desk does not ask are dropped, the SLA deadlines are
recomputed under the new desk's policy, and one desk event tells it on the timeline."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from core.extensions import db
from core.timeutil import utcnow
from desk import fields, sla_state
from desk.models import Desk, DeskField, DeskStaff
from desk.states import EntryKind, EventType, StatusKind
from desk.ticket_models import Ticket, TicketEntry
from tests.sla_setup import new_ticket, sla_desk

SUPPORT_FIRST, FINANCE_FIRST = 60, 30
SUPPORT_RESOLUTION, FINANCE_RESOLUTION = 480, 2880


@pytest.fixture
def setting(app, factory, tenants):
    """Reseller A: "Suporte" and "Financeiro" (each with its SLA policy) serve its client
    and are worked by the agent; "Vendas" serves it but the agent does not work it;
    "Interno" is worked by the agent but does not serve the client. A ticket on
    "Suporte" assigned to "só suporte", who works only that desk, with field values."""
    a = tenants.a
    agent = factory.staff(a.id, permissions=[perm.DESKS], email="agente@a.test")
    support_only = factory.staff(a.id, permissions=[perm.DESKS], email="suporte@a.test")
    with app.app_context():
        support = sla_desk(
            factory,
            a.id,
            a.client.id,
            [agent.id, support_only.id],
            first=SUPPORT_FIRST,
            resolution=SUPPORT_RESOLUTION,
        )
        finance = sla_desk(
            factory, a.id, a.client.id, [agent.id], first=FINANCE_FIRST, resolution=FINANCE_RESOLUTION
        )
        support.name, finance.name = "Suporte", "Financeiro"
        for label, kind in (("Pedido", "text"), ("Quantidade", "number"), ("Entrega", "text")):
            fields.add_field(support, label, kind)
        fields.add_field(finance, "Pedido", "text")
        fields.add_field(finance, "Entrega", "date")  # same key, another type
        ticket = new_ticket(factory, support, a.client.id, created_at=utcnow() - timedelta(minutes=10))
        ticket.assignee_account_id = support_only.id
        ticket.field_values = {"pedido": "PED-1", "quantidade": 3, "entrega": "amanhã"}
        sla_state.refresh(ticket)
        db.session.commit()
        ids = SimpleNamespace(ticket=ticket.id, support=support.id, finance=finance.id, agent=agent.id)
    sales = factory.desk(a.id, name="Vendas", client_ids=[a.client.id])
    internal = factory.desk(a.id, name="Interno")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=internal.id, account_id=agent.id, reseller_id=a.id))
        db.session.commit()
    ids.sales, ids.internal, ids.support_only = sales.id, internal.id, support_only.id
    return ids


@pytest.fixture
def agent(make_browser, setting):
    browser = make_browser()
    browser.login("agente@a.test")
    return browser


def state(app, ticket_id: int) -> tuple:
    """Everything a move changes."""
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        entries = db.session.scalar(
            select(func.count()).select_from(TicketEntry).where(TicketEntry.ticket_id == ticket_id)
        )
        return (
            ticket.desk_id,
            ticket.assignee_account_id,
            dict(ticket.field_values),
            ticket.first_response_due_at,
            ticket.resolution_due_at,
            entries,
        )


def move(browser, ticket_id: int, desk_id) -> str:
    """Post the move; the page it lands on (with its flashed message)."""
    response = browser.post(f"/reseller/tickets/{ticket_id}/desk", {"desk_id": desk_id})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reseller/tickets/{ticket_id}"
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def test_moving_changes_the_desk_the_assignee_the_fields_and_the_sla(app, setting, agent):
    with app.app_context():
        before = db.session.get(Ticket, setting.ticket)
        created_at, support_first_due = before.created_at, before.first_response_due_at
    assert support_first_due == created_at + timedelta(minutes=SUPPORT_FIRST)
    page = move(agent, setting.ticket, setting.finance)
    with app.app_context():
        ticket = db.session.get(Ticket, setting.ticket)
        assert ticket.desk_id == setting.finance
        # The new desk's policy, from the ticket's history (its creation).
        assert ticket.first_response_due_at == created_at + timedelta(minutes=FINANCE_FIRST)
        assert ticket.resolution_due_at == created_at + timedelta(minutes=FINANCE_RESOLUTION)
        # "só suporte" does not work Financeiro: unassigned, and the timeline says so.
        assert ticket.assignee_account_id is None
        # Quantidade is not on Financeiro's form; Entrega is, but "amanhã" is no date.
        assert ticket.field_values == {"pedido": "PED-1"}
        events = [
            e.event
            for e in db.session.scalars(
                select(TicketEntry)
                .where(TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.EVENT)
                .order_by(TicketEntry.id)
            )
        ]
    desk_event, assignee_event = events[-2:]
    assert desk_event == {
        "type": EventType.DESK,
        "before": {
            "desk_id": setting.support,
            "desk_name": "Suporte",
            "field_values": {"pedido": "PED-1", "quantidade": 3, "entrega": "amanhã"},
        },
        "after": {"desk_id": setting.finance, "desk_name": "Financeiro", "field_values": {"pedido": "PED-1"}},
    }
    assert assignee_event == {"type": EventType.ASSIGNEE, "before": setting.support_only, "after": None}
    assert "Chamado movido para outra mesa." in page
    assert "moveu o chamado para outra mesa" in page and "Suporte → Financeiro" in page


def test_the_assignee_who_works_the_new_desk_keeps_the_ticket(app, setting, agent):
    with app.app_context():
        db.session.get(Ticket, setting.ticket).assignee_account_id = setting.agent
        db.session.commit()
    move(agent, setting.ticket, setting.finance)
    with app.app_context():
        ticket = db.session.get(Ticket, setting.ticket)
        assert (ticket.desk_id, ticket.assignee_account_id) == (setting.finance, setting.agent)


def test_the_move_control_lists_the_desks_the_staff_member_may_move_to(app, setting, agent, make_browser):
    page = agent.get(f"/reseller/tickets/{setting.ticket}").get_data(as_text=True)
    control = page.split('id="desk-select"')[1].split("</select>")[0]
    assert f'value="{setting.finance}"' in control
    for desk_id in (setting.support, setting.sales, setting.internal):
        assert f'value="{desk_id}"' not in control
    owner = make_browser()
    owner.login("owner@a.test")  # works every desk
    control = (
        owner.get(f"/reseller/tickets/{setting.ticket}").get_data(as_text=True).split('id="desk-select"')[1]
    )
    control = control.split("</select>")[0]
    assert f'value="{setting.sales}"' in control and f'value="{setting.internal}"' not in control


def test_another_resellers_desk_is_refused_like_an_unknown_one(app, factory, tenants, setting, agent):
    desk_b = factory.desk(tenants.b.id, name="Mesa B", client_ids=[tenants.b.client.id])
    before = state(app, setting.ticket)
    unknown = move(agent, setting.ticket, 987654)
    assert "Mesa desconhecida." in unknown
    assert state(app, setting.ticket) == before
    refused = move(agent, setting.ticket, desk_b.id)
    assert "Mesa desconhecida." in refused
    assert state(app, setting.ticket) == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("sales", "Você não trabalha nesta mesa."),
        ("internal", "Esta mesa não atende este cliente."),
        ("archived", "Esta mesa está arquivada."),
        ("support", "O chamado já está nesta mesa."),
        ("merged", "Um chamado mesclado não muda mais."),
        ("", "Mesa desconhecida."),
    ],
)
def test_a_move_the_rules_refuse_changes_nothing(app, setting, agent, target, message):
    desk_id = getattr(setting, target, None) if target else ""
    with app.app_context():
        if target == "archived":
            db.session.get(Desk, setting.finance).archived_at = utcnow()
            desk_id = setting.finance
        if target == "merged":
            ticket = db.session.get(Ticket, setting.ticket)
            ticket.status_kind, ticket.merged_into_id = StatusKind.MERGED, None
            desk_id = setting.finance
        db.session.commit()
    before = state(app, setting.ticket)
    page = move(agent, setting.ticket, desk_id)
    assert message in page
    assert state(app, setting.ticket) == before


def test_a_move_without_the_csrf_token_is_refused(app, setting, agent):
    before = state(app, setting.ticket)
    response = agent.post(
        f"/reseller/tickets/{setting.ticket}/desk", {"desk_id": setting.finance}, csrf=False
    )
    assert response.status_code == 400
    assert state(app, setting.ticket) == before


def test_staff_who_do_not_work_the_tickets_desk_cannot_move_it(app, factory, tenants, setting, make_browser):
    factory.staff(tenants.a.id, permissions=[perm.DESKS], email="outra@a.test")
    other = make_browser()
    other.login("outra@a.test")
    before = state(app, setting.ticket)
    response = other.post(f"/reseller/tickets/{setting.ticket}/desk", {"desk_id": setting.finance})
    assert response.status_code == 404
    assert state(app, setting.ticket) == before


def test_a_moved_value_never_reaches_the_client_further_than_before():
    """The new desk may ask the same key as a field the client sees: a value that was
    internal (or on no field of the old form) stays behind rather than show up there."""

    def field(key, visibility):
        return DeskField(key=key, label=key, field_type="text", client_visibility=visibility, required=False)

    old = [field("contract", "internal"), field("order", "visible"), field("note", "editable")]
    new = [
        field("contract", "visible"),
        field("order", "visible"),
        field("note", "internal"),
        field("new", "editable"),
    ]
    values = {"contract": "C-1", "order": "O-1", "note": "N-1", "new": "X"}
    assert fields.carried_values(new, values, old) == {"order": "O-1", "note": "N-1"}
    assert fields.carried_values(new, values) == {"note": "N-1"}  # no old form: internal only

"""The desk rules (issue 13, seed 001): desks, client links and their removal, custom
field values per type, statuses, SLA policies and calendars."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEvent
from desk import desks, fields, links, policies, statuses
from desk.errors import DeskRejected
from desk.models import Desk, DeskClient, DeskField, TicketStatus
from desk.states import ClientVisibility, FieldType, StatusKind
from desk.ticket_models import Ticket
from seeds.documents import make_cnpj
from tenant import clients as client_rules
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


def desk_of(desk_id: int) -> Desk:
    return db.session.get(Desk, desk_id)


def linked(desk_id: int) -> set[int]:
    return set(db.session.scalars(select(DeskClient.client_id).where(DeskClient.desk_id == desk_id)))


# --- desks --------------------------------------------------------------------------------


def test_a_desk_is_created_checked_and_audited(factory, tenants):
    a = tenants.a
    staff = factory.staff(a.id, email="agente@a.test")
    desk = desks.create_desk(
        a.id,
        desks.DeskData(name="  Suporte  técnico ", intake_email="Suporte@A.test", staff_ids=[str(staff.id)]),
    )
    assert (desk.name, desk.intake_email, desks.staff_ids(desk)) == (
        "Suporte técnico",
        "suporte@a.test",
        [staff.id],
    )
    with pytest.raises(DeskRejected) as refused:
        desks.create_desk(
            a.id,
            desks.DeskData(
                name="SUPORTE TÉCNICO",
                intake_email="suporte@a.test",
                reopen_window_days="-1",
                approval_rule="n_of_m",
                staff_ids=["999999"],
            ),
        )
    assert set(refused.value.errors) == {
        "intake_email",
        "reopen_window_days",
        "approvals_needed",
        "staff_ids",
        "name",
    }
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "desk.created")).one()
    assert event.details["after"]["name"] == "Suporte técnico" and event.details["before"] is None


def test_another_resellers_policy_calendar_or_staff_cannot_be_chosen(tenants):
    b_policy = policies.save_policy(tenants.b.id, None, "Padrão B", "80", {})
    with pytest.raises(DeskRejected) as refused:
        desks.create_desk(tenants.a.id, desks.DeskData(name="X", sla_policy_id=str(b_policy.id)))
    assert set(refused.value.errors) == {"sla_policy_id"}


def test_archiving_hides_the_desk_and_restoring_brings_it_back(tenants):
    desk = desks.create_desk(tenants.a.id, desks.DeskData(name="Vendas"))
    desks.archive_desk(desk)
    assert [d.name for d, *_ in desks.desk_rows(tenants.a.id)] == []
    assert [d.name for d, *_ in desks.desk_rows(tenants.a.id, archived=True)] == ["Vendas"]
    desks.restore_desk(desk)
    assert [d.name for d, *_ in desks.desk_rows(tenants.a.id, search="VEND")] == ["Vendas"]


# --- links (seed 001) ------------------------------------------------------------------------


def test_clients_are_linked_one_several_or_all_and_new_ones_when_asked(factory, tenants):
    a = tenants.a
    others = [factory.client(a.id, trade_name=f"Loja {n}") for n in range(3)]
    gone = factory.client(a.id, trade_name="Inativa", inactivated=True)
    desk = desks.create_desk(a.id, desks.DeskData(name="Financeiro"))
    assert links.link_clients(desk, [str(others[0].id)], None) == 1
    assert links.link_clients(desk, [str(others[0].id), str(others[1].id)], None) == 1
    with pytest.raises(DeskRejected):
        links.link_clients(desk, [str(gone.id)], None)  # an inactive client is not offered
    with pytest.raises(DeskRejected):
        links.link_clients(desk, [str(tenants.b.client.id)], None)  # another reseller's
    assert links.link_all_clients(desk, None, include_future=True) == 2  # Alpha A and Loja 2
    assert linked(desk.id) == {a.client.id, *(c.id for c in others)}
    db.session.commit()
    later = client_rules.create_client(
        a.id,
        client_rules.ClientData(
            trade_name="Nova",
            legal_name="Nova Ltda",
            email="nova@nova.test",
            document_type="cnpj",
            document=make_cnpj(4242),
        ),
    )
    assert later.id in linked(desk.id)


def test_a_client_with_open_or_pending_review_tickets_on_the_desk_is_not_removed(factory, tenants):
    a = tenants.a
    desk = factory.desk(a.id, name="Suporte", client_ids=[a.client.id])
    other = factory.desk(a.id, name="Outra", client_ids=[a.client.id])
    factory.ticket(a.client.id, desk_id=other.id, kind=StatusKind.OPEN)  # on another desk: no matter
    review = factory.ticket(a.client.id, desk_id=desk.id, kind=StatusKind.PENDING_REVIEW)
    with pytest.raises(DeskRejected) as refused:
        links.unlink_client(desk_of(desk.id), a.client.id)
    assert "tickets abertos ou pendentes de revisão nessa mesa" in str(refused.value)  # seed 001
    assert a.client.id in linked(desk.id)
    closed = statuses.default_status(a.id, StatusKind.CLOSED)
    row = db.session.get(Ticket, review.id)
    row.status_id, row.status_kind = closed.id, StatusKind.CLOSED  # the ticket is closed
    assert links.unlink_client(desk_of(desk.id), a.client.id).id == a.client.id
    assert a.client.id not in linked(desk.id)
    assert db.session.get(Client, a.client.id) is not None  # the client itself stays


# --- fields ---------------------------------------------------------------------------------


def _field(desk, field_type, options="", required=False, visibility=ClientVisibility.EDITABLE) -> DeskField:
    return fields.add_field(desk, f"Campo {field_type}", field_type, options, required, visibility)


VALID = {
    FieldType.TEXT: ("  Pedido   42 ", "Pedido 42"),
    FieldType.LONG_TEXT: ("linha 1\nlinha 2 ", "linha 1\nlinha 2"),
    FieldType.NUMBER: ("12,5", 12.5),
    FieldType.DATE: ("2026-12-01", "2026-12-01"),
    FieldType.SELECT: ("Sim", "Sim"),
    FieldType.MULTI_SELECT: (["Não", "Sim"], ["Sim", "Não"]),
    FieldType.CHECKBOX: ("on", True),
}
INVALID = {
    FieldType.TEXT: "x" * 256,
    FieldType.LONG_TEXT: 12,
    FieldType.NUMBER: "doze",
    FieldType.DATE: "31/12/2026",
    FieldType.SELECT: "Talvez",
    FieldType.MULTI_SELECT: ["Sim", "Talvez"],
    FieldType.CHECKBOX: "maybe",
}


@pytest.mark.parametrize("field_type", list(FieldType))
def test_each_field_type_keeps_a_valid_value_and_refuses_a_wrong_one(tenants, field_type):
    desk = desks.create_desk(tenants.a.id, desks.DeskData(name="Campos"))
    definition = _field(desk, field_type, "Sim\nNão\nSim")
    raw, stored = VALID[field_type]
    assert fields.clean_values([definition], {definition.key: raw}) == {definition.key: stored}
    with pytest.raises(DeskRejected) as refused:
        fields.clean_values(
            [definition], {definition.key: INVALID[field_type]}, current={definition.key: stored}
        )
    assert set(refused.value.errors) == {definition.key}


def test_required_unknown_and_client_rules_for_field_values(tenants):
    desk = desks.create_desk(tenants.a.id, desks.DeskData(name="Campos"))
    order = fields.add_field(desk, "Número do pedido", FieldType.TEXT, required=True, visibility="editable")
    internal = fields.add_field(desk, "Custo interno", FieldType.NUMBER, required=True, visibility="internal")
    assert order.key == "numero_do_pedido"
    with pytest.raises(DeskRejected) as refused:
        fields.clean_values([order, internal], {"numero_do_pedido": " "})
    assert set(refused.value.errors) == {"numero_do_pedido", "custo_interno"}
    with pytest.raises(DeskRejected) as refused:
        fields.clean_values([order, internal], {"nope": "1", "numero_do_pedido": "9"})
    assert set(refused.value.errors) == {"nope", "custo_interno"}
    # A client fills in only what it may edit; internal required fields are staff's.
    assert fields.clean_values([order, internal], {"numero_do_pedido": "9"}, by_client=True) == {
        "numero_do_pedido": "9"
    }
    with pytest.raises(DeskRejected) as refused:
        fields.clean_values(
            [order, internal], {"custo_interno": "5", "numero_do_pedido": "9"}, by_client=True
        )
    assert set(refused.value.errors) == {"custo_interno"}
    with pytest.raises(DeskRejected):
        fields.add_field(desk, "Escolha", FieldType.SELECT, "")  # a select needs options
    fields.archive_field(internal)
    assert fields.desk_fields(desk) == [order]


# --- statuses --------------------------------------------------------------------------------


def test_statuses_are_renamed_and_a_kinds_last_or_used_status_is_kept(factory, tenants):
    a = tenants.a
    waiting = statuses.default_status(a.id, StatusKind.WAITING_ON_CLIENT)
    assert statuses.update_status(waiting, "Com o cliente", "Aguardando você", pauses_sla=False)
    assert (waiting.name, waiting.pauses_sla) == ("Com o cliente", False)
    with pytest.raises(DeskRejected):
        statuses.delete_status(waiting)  # the kind's last
    extra = statuses.add_status(a.id, StatusKind.WAITING_ON_CLIENT, "Aguardando documentos", pauses_sla=True)
    statuses.make_default(extra)
    assert statuses.default_status(a.id, StatusKind.WAITING_ON_CLIENT).id == extra.id
    ticket = factory.ticket(a.client.id, kind=StatusKind.WAITING_ON_CLIENT)
    assert ticket.status_id == extra.id
    with pytest.raises(DeskRejected) as refused:
        statuses.delete_status(db.session.get(TicketStatus, extra.id))
    assert "1" in str(refused.value)
    statuses.delete_status(db.session.get(TicketStatus, waiting.id))  # unused, and not the last
    with pytest.raises(DeskRejected):
        statuses.add_status(a.id, "nonsense", "")


# --- SLA policies and calendars ----------------------------------------------------------------


def test_policies_and_calendars_are_checked_and_kept_while_in_use(tenants):
    a = tenants.a
    with pytest.raises(DeskRejected) as refused:
        policies.save_policy(a.id, None, "", "100", {"urgent.first_response_minutes": "0"})
    assert set(refused.value.errors) == {"name", "expiring_percent", "urgent.first_response_minutes"}
    policy = policies.save_policy(a.id, None, "Padrão", "80", {"urgent.first_response_minutes": "30"})
    assert {t.priority: t.first_response_minutes for t in policy.targets}["urgent"] == 30
    with pytest.raises(DeskRejected) as refused:
        policies.save_calendar(a.id, None, "Comercial", "Mars/Base", True, {"0": "18:00-08:00"})
    assert set(refused.value.errors) == {"timezone", "hours_0"}
    calendar = policies.save_calendar(
        a.id,
        None,
        "Comercial",
        "America/Sao_Paulo",
        True,
        {"0": "08:00-12:00, 13:00-18:00", "5": "08:00-24:00"},
    )
    assert calendar.hours == {"0": [["08:00", "12:00"], ["13:00", "18:00"]], "5": [["08:00", "24:00"]]}
    policies.add_date(calendar, "2026-12-24", "Véspera de Natal")
    with pytest.raises(DeskRejected):
        policies.add_date(calendar, "2026-12-24", "De novo")
    desks.create_desk(
        a.id, desks.DeskData(name="Suporte", sla_policy_id=str(policy.id), calendar_id=str(calendar.id))
    )
    with pytest.raises(DeskRejected):
        policies.delete_policy(policy)
    with pytest.raises(DeskRejected):
        policies.delete_calendar(calendar)


def test_removing_every_client_keeps_those_with_open_tickets_and_stops_linking_new_ones(factory, tenants):
    a = tenants.a
    calm = factory.client(a.id, trade_name="Sem chamados")
    desk = factory.desk(a.id, name="Suporte", client_ids=[a.client.id, calm.id], link_new_clients=True)
    factory.ticket(a.client.id, desk_id=desk.id, kind=StatusKind.WAITING_ON_THIRD_PARTY)
    assert links.unlink_all_clients(desk_of(desk.id)) == (1, 1)
    assert linked(desk.id) == {a.client.id} and not desk_of(desk.id).link_new_clients


def test_the_linked_clients_come_a_page_at_a_time(factory, tenants):
    a = tenants.a
    shops = [factory.client(a.id, trade_name=f"Loja {n:02d}") for n in range(5)]
    desk = factory.desk(a.id, name="Suporte", client_ids=[c.id for c in shops])
    rows, total = links.linked_clients(desk_of(desk.id), "loja", page=2, per_page=2)
    assert total == 5 and [client.trade_name for _link, client in rows] == ["Loja 02", "Loja 03"]

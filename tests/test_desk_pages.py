"""The desk pages (issue 13, seed 001): desks, the Clientes and Campos tabs, statuses,
SLA policies and calendars; who may reach them."""

from __future__ import annotations

from sqlalchemy import select

from auth import permissions as perm
from billing.models import Plan
from core.extensions import db
from core.models import AuditEvent
from desk.models import BusinessCalendar, Desk, DeskClient, DeskField, DeskStaff, SlaPolicy, TicketStatus
from desk.states import StatusKind


def linked(app, desk_id: int) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(DeskClient.client_id).where(DeskClient.desk_id == desk_id)))


def desk_named(app, name: str) -> Desk | None:
    with app.app_context():
        return db.session.scalar(select(Desk).where(Desk.name == name))


def test_staff_create_a_desk_link_clients_and_remove_one_as_seed_001_says(app, factory, tenants, browser):
    a = tenants.a
    other = factory.client(a.id, trade_name="Padaria Beta")
    browser.login("owner@a.test")
    assert "Nenhuma mesa de serviço ainda" in browser.get("/reseller/desks").get_data(as_text=True)
    refused = browser.post("/reseller/desks/new", {"name": "", "reopen_window_days": "x"})
    assert refused.status_code == 422 and desk_named(app, "") is None
    created = browser.post(
        "/reseller/desks/new",
        {
            "name": "Suporte",
            "intake_email": "suporte@a.test",
            "default_priority": "high",
            "reopen_window_days": "7",
            "approval_rule": "none",
        },
    )
    desk = desk_named(app, "Suporte")
    assert created.headers["Location"] == f"/reseller/desks/{desk.id}/clients"
    assert (desk.intake_email, desk.default_priority) == ("suporte@a.test", "high")
    tab = browser.get(f"/reseller/desks/{desk.id}/clients").get_data(as_text=True)
    assert 'id="add-client-button"' in tab  # "+ Cliente"
    assert "Adicionar todos os clientes" in tab and "Padaria Beta" in tab  # offered in the picker
    browser.post(f"/reseller/desks/{desk.id}/clients", {"client_ids": [str(other.id)]})
    assert linked(app, desk.id) == {other.id}
    browser.post(f"/reseller/desks/{desk.id}/clients/all", {"include_future": "1"})
    assert linked(app, desk.id) == {other.id, a.client.id}
    assert desk_named(app, "Suporte").link_new_clients
    factory.ticket(other.id, desk_id=desk.id, kind=StatusKind.PENDING_REVIEW)
    page = browser.post(f"/reseller/desks/{desk.id}/clients/{other.id}/remove", follow_redirects=True)
    assert "tickets abertos ou pendentes de revisão nessa mesa" in page.get_data(as_text=True)
    assert other.id in linked(app, desk.id)
    page = browser.post(f"/reseller/desks/{desk.id}/clients/{a.client.id}/remove", follow_redirects=True)
    assert "Removido com sucesso" in page.get_data(as_text=True)
    assert linked(app, desk.id) == {other.id}
    searched = browser.get(f"/reseller/desks/{desk.id}/clients?q=padaria").get_data(as_text=True)
    assert f'data-client-id="{other.id}"' in searched
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "desks")))
    assert {
        "desk.created",
        "desk.clients_linked",
        "desk.all_clients_linked",
        "desk.client_unlinked",
    } <= actions


def test_the_data_tab_edits_and_archives_the_desk(app, factory, tenants, browser):
    desk = factory.desk(tenants.a.id, name="Vendas")
    browser.login("owner@a.test")
    assert 'value="Vendas"' in browser.get(f"/reseller/desks/{desk.id}").get_data(as_text=True)
    form = {
        "name": "Comercial",
        "default_priority": "normal",
        "reopen_window_days": "3",
        "approval_rule": "any",
    }
    assert browser.post(f"/reseller/desks/{desk.id}", form).status_code == 302
    edited = desk_named(app, "Comercial")
    assert (edited.reopen_window_days, edited.approval_rule) == (3, "any")
    assert (
        browser.post(f"/reseller/desks/{desk.id}", {**form, "reopen_window_days": "999"}).status_code == 422
    )
    browser.post(f"/reseller/desks/{desk.id}/archive")
    assert desk_named(app, "Comercial").archived_at is not None
    assert f'data-desk-id="{desk.id}"' not in browser.get("/reseller/desks").get_data(as_text=True)
    assert f'data-desk-id="{desk.id}"' in browser.get("/reseller/desks?archived=1").get_data(as_text=True)


def test_fields_statuses_policies_and_calendars_are_edited_on_their_pages(app, factory, tenants, browser):
    a = tenants.a
    desk = factory.desk(a.id, name="Suporte")
    browser.login("owner@a.test")
    assert (
        browser.post(
            f"/reseller/desks/{desk.id}/fields", {"label": "Lista", "field_type": "select"}
        ).status_code
        == 422
    )
    browser.post(
        f"/reseller/desks/{desk.id}/fields",
        {"label": "Sistema", "field_type": "select", "options": "ERP\nSite", "client_visibility": "editable"},
    )
    with app.app_context():
        field = db.session.scalar(select(DeskField).where(DeskField.desk_id == desk.id))
        assert (field.key, field.options) == ("sistema", ["ERP", "Site"])
    browser.post(f"/reseller/desks/{desk.id}/fields/{field.id}/archive")
    with app.app_context():
        assert db.session.get(DeskField, field.id).archived_at is not None
        status = db.session.scalar(
            select(TicketStatus).where(TicketStatus.reseller_id == a.id, TicketStatus.kind == StatusKind.OPEN)
        )
    statuses_page = browser.get("/reseller/desks/statuses").get_data(as_text=True)
    assert "Em atendimento" in statuses_page
    browser.post(f"/reseller/desks/statuses/{status.id}", {"name": "Atendendo", "client_name": ""})
    with app.app_context():
        assert db.session.get(TicketStatus, status.id).name == "Atendendo"
    refused = browser.post(f"/reseller/desks/statuses/{status.id}/delete", follow_redirects=True)
    assert "O último status de um tipo não pode ser excluído" in refused.get_data(as_text=True)
    browser.post(
        "/reseller/desks/sla/policies/new",
        {"name": "Ouro", "expiring_percent": "75", "urgent.resolution_minutes": "240"},
    )
    browser.post(
        "/reseller/desks/sla/calendars/new",
        {
            "name": "Comercial",
            "timezone": "America/Sao_Paulo",
            "use_national_holidays": "1",
            "hours_0": "08:00-18:00",
        },
    )
    with app.app_context():
        policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.reseller_id == a.id))
        calendar = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.reseller_id == a.id))
        assert policy.expiring_percent == 75 and calendar.hours == {"0": [["08:00", "18:00"]]}
    browser.post(
        f"/reseller/desks/sla/calendars/{calendar.id}/dates", {"day": "2026-12-24", "date_name": "Véspera"}
    )
    page = browser.get(f"/reseller/desks/sla/calendars/{calendar.id}").get_data(as_text=True)
    assert "Véspera" in page and "24/12/2026" in page


def test_only_staff_with_the_service_desks_permission_reach_the_pages(app, factory, tenants, make_browser):
    desk = factory.desk(tenants.a.id, name="Suporte")
    without = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem@a.test")
    with_desks = factory.staff(tenants.a.id, permissions=[perm.DESKS], email="mesas@a.test")
    with app.app_context():  # who works the desk (the others: tests/test_desk_boundaries.py)
        db.session.add(DeskStaff(reseller_id=tenants.a.id, desk_id=desk.id, account_id=with_desks.id))
        db.session.commit()
    factory.user(tenants.a.client.id, email="gente@alpha.test")
    for email, expected in ((without.email, 403), (with_desks.email, 200), ("gente@alpha.test", 403)):
        browser = make_browser()
        browser.login(email)
        for path in ("/reseller/desks", f"/reseller/desks/{desk.id}/clients", "/reseller/desks/statuses"):
            assert browser.get(path).status_code == expected, (email, path)
    staff = make_browser()
    staff.login(with_desks.email)
    assert "bi-headset" in staff.get("/reseller/desks").get_data(as_text=True)  # in the panel's menu


def test_the_client_page_shows_its_desks_and_open_tickets(app, factory, tenants, browser):
    a = tenants.a
    desk = factory.desk(a.id, name="Financeiro", client_ids=[a.client.id])
    factory.desk(a.id, name="Outra mesa")
    factory.ticket(a.client.id, desk_id=desk.id, kind=StatusKind.WAITING_ON_CLIENT)
    browser.login("owner@a.test")
    page = browser.get(f"/reseller/clients/{a.client.id}").get_data(as_text=True)
    section = page[page.index('id="client-desks"') :]
    assert f'data-desk-id="{desk.id}"' in section and "Outra mesa" not in section
    assert "1 ticket(s) aberto(s)" in section


def test_a_plan_carries_a_stricter_sla_policy_of_its_reseller_only(app, factory, tenants, browser):
    a, b = tenants.a, tenants.b
    with app.app_context():
        gold = SlaPolicy(reseller_id=a.id, name="Ouro")
        other = SlaPolicy(reseller_id=b.id, name="De B")
        db.session.add_all([gold, other])
        db.session.commit()
        gold_id, other_id = gold.id, other.id
    browser.login("owner@a.test")
    form = {"name": "Plano A", "price": "99,90", "period": "monthly", "sessions": "100"}
    assert (
        browser.post(
            f"/reseller/plans/{a.plan.id}/edit", {**form, "sla_policy_id": str(other_id)}
        ).status_code
        == 422
    )
    assert (
        browser.post(f"/reseller/plans/{a.plan.id}/edit", {**form, "sla_policy_id": str(gold_id)}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Plan, a.plan.id).sla_policy_id == gold_id
    refused = browser.post(f"/reseller/desks/sla/policies/{gold_id}/delete", follow_redirects=True)
    assert "usam esta política" in refused.get_data(as_text=True)
    page = browser.get(f"/reseller/plans/{a.plan.id}/edit").get_data(as_text=True)
    assert f'<option value="{gold_id}" selected>' in page

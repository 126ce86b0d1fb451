"""A reseller's set-up kept per process and per its set-up token (core.kept, migration
0037): whoever writes a plan, a desk or a ticket status, the next page shows it, and a
reseller's pages never show another reseller's."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update

from billing.models import Plan
from core.extensions import db
from core.models import Reseller
from desk.models import Desk, TicketStatus

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]*)</option>')


def menu(browser) -> dict[int, str]:
    page = browser.get("/reseller/clients").get_data(as_text=True)
    plan_select = page[page.index('name="plan"') :]
    plan_select = plan_select[: plan_select.index("</select>")]
    return {int(value): name.strip() for value, name in OPTION.findall(plan_select)}


def token(reseller_id: int) -> str | None:
    return db.session.scalar(select(Reseller.setup_token).where(Reseller.id == reseller_id))


def test_every_write_of_its_set_up_moves_its_resellers_token_only(ctx, factory, tenants):
    a, b = tenants.a, tenants.b
    seen = {token(a.id)}
    b_before = token(b.id)
    assert None not in seen and b_before is not None
    plan = factory.plan(a.id, name="Básico")
    seen.add(token(a.id))
    db.session.execute(update(Plan).where(Plan.id == plan.id).values(name="Básico 2"))
    seen.add(token(a.id))
    db.session.execute(delete(Plan).where(Plan.id == plan.id))
    seen.add(token(a.id))
    desk = Desk(reseller_id=a.id, name="Suporte")
    db.session.add(desk)
    db.session.flush()
    seen.add(token(a.id))
    status = db.session.scalars(select(TicketStatus).where(TicketStatus.reseller_id == a.id)).first()
    status.name = "Renomeado"
    db.session.flush()
    seen.add(token(a.id))
    assert len(seen) == 6  # a new token at each write
    assert token(b.id) == b_before


def test_the_menu_follows_plans_written_by_anyone(ctx, browser, factory, tenants):
    a, b = tenants.a, tenants.b
    browser.login("owner@a.test")
    own = {plan.id: plan.name for plan in db.session.scalars(select(Plan).where(Plan.reseller_id == a.id))}
    first = factory.plan(a.id, name="Básico")
    factory.plan(b.id, name="Plano da Outra Revenda")
    assert menu(browser) == {**own, first.id: "Básico"}
    assert menu(browser) == {**own, first.id: "Básico"}  # the kept menu, the same

    second = factory.plan(a.id, name="Profissional")  # written outside the plan pages
    assert menu(browser) == {**own, first.id: "Básico", second.id: "Profissional"}
    db.session.execute(update(Plan).where(Plan.id == first.id).values(name="Essencial"))
    db.session.commit()
    assert menu(browser)[first.id] == "Essencial"
    db.session.execute(delete(Plan).where(Plan.id == second.id))
    db.session.commit()
    assert menu(browser) == {**own, first.id: "Essencial"}
    assert "Plano da Outra Revenda" not in menu(browser).values()


def test_the_queue_follows_desks_and_statuses_written_by_anyone(ctx, browser, factory, tenants):
    a, b = tenants.a, tenants.b
    browser.login("owner@a.test")
    first = factory.desk(a.id, name="Suporte", client_ids=[a.client.id])
    factory.ticket(a.client.id, first.id, subject="Primeiro chamado")
    factory.desk(b.id, name="Outra revenda")
    page = browser.get("/reseller/tickets?status=all").get_data(as_text=True)
    assert "Primeiro chamado" in page
    status = db.session.scalars(select(TicketStatus).where(TicketStatus.reseller_id == a.id)).first()
    assert f'<option value="{status.id}">' in page

    second = factory.desk(a.id, name="Financeiro", client_ids=[a.client.id])  # written outside the pages
    factory.ticket(a.client.id, second.id, subject="Segundo chamado")
    status.name = "Nome novo do status"
    db.session.commit()
    page = browser.get("/reseller/tickets?status=all").get_data(as_text=True)
    assert "Primeiro chamado" in page and "Segundo chamado" in page  # the new desk is walked too
    assert "Nome novo do status" in page
    other = db.session.scalars(select(TicketStatus).where(TicketStatus.reseller_id == b.id)).first()
    assert f'<option value="{other.id}">' not in page

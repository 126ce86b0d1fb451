"""Approvals, the pages (issue 15, seed 004): staff ask named users of the client from the
ticket page (two of three), the approvers are e-mailed a link on the canonical URL and
decide in the portal, the ticket moves on when the rule is met and everyone sees who
decided what; a refusal needs a comment; staff cannot change the status while it is
pending; the desk's rule asks by itself on a ticket staff open; staff logged in as an
approver are refused; an approver who may not read the ticket sees only its number,
subject, desk and the note."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from auth import permissions as perm
from auth.models import STAFF, Account
from core.extensions import db
from core.models import Reseller
from desk.models import Desk, DeskStaff
from desk.review_models import TicketApproval
from desk.states import ApprovalRule, ApprovalState, StatusKind
from desk.statuses import default_status
from desk.ticket_models import Ticket
from seeds.demo_approvals import seed_approvals
from tenant.models import Client
from tests.test_intake_processing import DESK_ADDRESS, SENDER, deliver, mail

CANONICAL = "https://atendimento.a.test:8443"


@pytest.fixture
def world(app, factory, tenants):
    """Reseller A's desk "Compras" worked by agente@a.test, three users of its client who
    may approve, and a ticket in service asked by the client's responsible user."""
    a = tenants.a
    desk = factory.desk(a.id, name="Compras", client_ids=[a.client.id])
    agent = factory.staff(a.id, permissions=[perm.DESKS, perm.CLIENTS], email="agente@a.test")
    users = [
        factory.user(a.client.id, email=f"aprovador{n}@alpha.test", name=f"Aprovador {n}") for n in (1, 2, 3)
    ]
    ticket = factory.ticket(a.client.id, desk_id=desk.id, subject="Comprar notebook")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=a.id))
        db.session.execute(update(Reseller).where(Reseller.id == a.id).values(canonical_url=CANONICAL))
        db.session.execute(
            update(Ticket).where(Ticket.id == ticket.id).values(description="Segredo do chamado")
        )
        db.session.commit()
        requester = db.session.get(Client, a.client.id).email
    return {"desk": desk, "ticket": ticket, "users": users, "requester": requester}


@pytest.fixture
def agent(make_browser, world):
    browser = make_browser()
    browser.login("agente@a.test")
    return browser


def signed_in(make_browser, email):
    browser = make_browser()
    browser.login(email)
    return browser


def state_of(app, ticket_id) -> tuple[str | None, str]:
    with app.app_context():
        approval = db.session.scalar(
            select(TicketApproval)
            .where(TicketApproval.ticket_id == ticket_id)
            .order_by(TicketApproval.id.desc())
        )
        return (approval.state if approval else None), db.session.get(Ticket, ticket_id).status_kind


def approval_id(app, ticket_id) -> int:
    with app.app_context():
        return db.session.scalar(select(TicketApproval.id).where(TicketApproval.ticket_id == ticket_id))


def ask(agent, world, rule=ApprovalRule.N_OF_M, needed=2, users=None):
    ticket_id = world["ticket"].id
    response = agent.post(
        f"/reseller/tickets/{ticket_id}/approval",
        {
            "approver_ids": [u.id for u in (users or world["users"])],
            "rule": rule,
            "needed": needed,
            "note": "Acima do orçamento",
        },
    )
    assert response.status_code == 302
    return ticket_id


def decide(browser, approval, decision, comment=""):
    return browser.post(f"/app/approvals/{approval}/decide", {"decision": decision, "comment": comment})


def test_two_of_three_approvers_decide_in_the_portal_and_the_ticket_moves_on(
    app, world, agent, make_browser, mailbox, run_jobs
):
    page = agent.get(f"/reseller/tickets/{world['ticket'].id}").get_data(as_text=True)
    assert 'id="approval-form"' in page and "aprovador3@alpha.test" in page
    mailbox.clear()
    ticket_id = ask(agent, world)
    run_jobs()
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    for user in world["users"]:
        (message,) = mailbox.to(user.email)
        assert "Acima do orçamento" in message["text"]
        links = re.findall(r"https?://[^\s<>\"']+", message["text"])
        assert links == [CANONICAL + "/app/approvals"]
    approval = approval_id(app, ticket_id)
    first, second, third = (signed_in(make_browser, u.email) for u in world["users"])
    waiting = first.get("/app/approvals").get_data(as_text=True)
    assert "Comprar notebook" in waiting and "Acima do orçamento" in waiting and "Compras" in waiting
    assert f'action="/app/approvals/{approval}/decide"' in waiting
    assert decide(first, approval, "approved", "De acordo").status_code == 302
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    mailbox.clear()
    decide(second, approval, "approved")
    run_jobs()
    assert state_of(app, ticket_id) == (ApprovalState.APPROVED, StatusKind.OPEN)
    # The requester and the desk's staff (the ticket has no assignee) are told.
    assert mailbox.to(world["requester"]) and mailbox.to("agente@a.test")
    assert not mailbox.to(world["users"][2].email)
    # The third approver's decision is no longer taken; the page lists it as past.
    decide(third, approval, "refused", "Tarde demais")
    assert state_of(app, ticket_id) == (ApprovalState.APPROVED, StatusKind.OPEN)
    past = third.get("/app/approvals").get_data(as_text=True)
    assert f'action="/app/approvals/{approval}/decide"' not in past and "Comprar notebook" in past
    # Everyone sees who decided what: the staff panel and the timeline.
    page = agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    panel = page[page.index('id="approval-panel"') :]
    assert panel.count('data-vote="approved"') == 2 and panel.count('data-vote=""') == 1
    assert "De acordo" in panel and 'data-approval-state="approved"' in panel
    assert page.count('class="approval-event"') == 4  # asked, two votes, granted


def test_a_refusal_needs_a_comment_and_under_all_closes_the_ticket(app, world, agent, make_browser):
    ticket_id = ask(agent, world, rule=ApprovalRule.ALL, needed="")
    approval = approval_id(app, ticket_id)
    first = signed_in(make_browser, world["users"][0].email)
    decide(first, approval, "refused", "  ")
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    decide(first, approval, "refused", "Sem verba")
    assert state_of(app, ticket_id) == (ApprovalState.REFUSED, StatusKind.CLOSED)
    page = agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    assert "Sem verba" in page and 'id="approval-form"' not in page  # a finished ticket is not asked again


def test_staff_cannot_change_the_status_while_pending_until_they_cancel(
    app, world, agent, make_browser, mailbox, run_jobs
):
    ticket_id = ask(agent, world, rule=ApprovalRule.ANY)
    with app.app_context():
        closed = default_status(world["ticket"].reseller_id, StatusKind.CLOSED).id
    response = agent.post(f"/reseller/tickets/{ticket_id}/status", {"status_id": closed})
    assert response.status_code == 302
    page = agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    assert "cancele a aprovação antes de alterá-lo" in page
    assert 'id="approval-cancel-form"' in page
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    again = agent.post(
        f"/reseller/tickets/{ticket_id}/approval", {"approver_ids": [world["users"][0].id], "rule": "any"}
    )
    assert again.status_code == 302 and state_of(app, ticket_id)[0] == ApprovalState.PENDING
    mailbox.clear()
    agent.post(f"/reseller/tickets/{ticket_id}/approval/cancel")
    run_jobs()
    assert state_of(app, ticket_id) == (ApprovalState.CANCELLED, StatusKind.OPEN)
    assert all(mailbox.to(u.email) for u in world["users"])  # nothing more is needed of them
    first = signed_in(make_browser, world["users"][0].email)
    decide(first, approval_id(app, ticket_id), "approved")
    assert state_of(app, ticket_id) == (ApprovalState.CANCELLED, StatusKind.OPEN)


def test_a_request_naming_another_clients_user_is_refused_and_writes_nothing(
    app, factory, tenants, world, agent
):
    neighbour = factory.client(tenants.a.id, trade_name="Vizinha")
    outsider = factory.user(neighbour.id, email="fora@vizinha.test")
    ticket_id = world["ticket"].id
    response = agent.post(
        f"/reseller/tickets/{ticket_id}/approval",
        {"approver_ids": [world["users"][0].id, outsider.id], "rule": "any"},
    )
    assert response.status_code == 302
    assert state_of(app, ticket_id) == (None, StatusKind.OPEN)
    assert "usuários ativos do cliente" in agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)


def test_staff_logged_in_as_an_approver_cannot_decide(app, factory, tenants, world, agent, make_browser):
    ticket_id = ask(agent, world)
    approval = approval_id(app, ticket_id)
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="imp@a.test")
    staff = signed_in(make_browser, "imp@a.test")
    started = staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{world['users'][0].id}/login-as")
    assert started.headers["Location"] == "/app/"
    page = staff.get("/app/approvals").get_data(as_text=True)
    assert 'id="approvals-impersonating"' in page and "/decide" not in page
    assert decide(staff, approval, "approved").status_code == 403
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    with app.app_context():
        votes = db.session.get(TicketApproval, approval).votes
        assert all(v.decision is None for v in votes)


def test_only_the_approvers_decide_and_see_only_what_they_may_read(
    app, factory, tenants, world, agent, make_browser
):
    ticket_id = ask(agent, world, users=world["users"][:2])
    approval = approval_id(app, ticket_id)
    # Not asked (same client), and a user of another client: the approval does not exist.
    not_asked = signed_in(make_browser, world["users"][2].email)
    assert decide(not_asked, approval, "approved").status_code == 404
    assert "Comprar notebook" not in not_asked.get("/app/approvals").get_data(as_text=True)
    neighbour = factory.client(
        tenants.a.id, trade_name="Vizinha", plan_id=tenants.a.plan.id, payment_status="paid"
    )
    factory.user(neighbour.id, email="gente@vizinha.test")
    outsider = signed_in(make_browser, "gente@vizinha.test")
    assert decide(outsider, approval, "approved").status_code == 404
    assert state_of(app, ticket_id) == (ApprovalState.PENDING, StatusKind.WAITING_ON_CLIENT)
    # The approver reads the number, subject, desk and note; not the ticket's description.
    first = signed_in(make_browser, world["users"][0].email)
    page = first.get("/app/approvals").get_data(as_text=True)
    assert "Comprar notebook" in page and "Segredo do chamado" not in page
    assert "data-readable" not in page  # not theirs to open
    # Without the portal there is no approvals page.
    with app.app_context():
        db.session.get(Account, world["users"][0].id).permissions = []
        db.session.commit()
    assert first.get("/app/approvals").status_code == 403
    assert decide(first, approval, "approved").status_code == 403


def test_the_desks_rule_asks_by_itself_on_a_ticket_staff_open(app, tenants, world, agent, mailbox, run_jobs):
    with app.app_context():
        db.session.execute(
            update(Desk).where(Desk.id == world["desk"].id).values(approval_rule=ApprovalRule.ANY)
        )
        db.session.commit()
        responsible = db.session.get(Client, tenants.a.client.id).responsible_account_id
    mailbox.clear()
    response = agent.post(
        f"/reseller/clients/{tenants.a.client.id}/tickets/new",
        {
            "desk_id": world["desk"].id,
            "requester_id": world["users"][0].id,
            "subject": "Trocar monitor",
            "description": "Tela quebrada",
        },
    )
    assert response.status_code == 302
    run_jobs()
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Trocar monitor"))
        approval = db.session.scalar(select(TicketApproval).where(TicketApproval.ticket_id == ticket.id))
        assert ticket.status_kind == StatusKind.WAITING_ON_CLIENT
        assert approval.rule == ApprovalRule.ANY and [v.account_id for v in approval.votes] == [responsible]
    (message,) = mailbox.to(world["requester"])
    assert CANONICAL + "/app/approvals" in message["text"]


def test_the_desks_rule_asks_by_itself_on_a_ticket_opened_by_mail(app, factory, tenants, run_jobs, mailbox):
    a = tenants.a
    factory.desk(
        a.id,
        name="Mesa de e-mail",
        client_ids=[a.client.id],
        intake_email=DESK_ADDRESS,
        approval_rule=ApprovalRule.ALL,
    )
    ana = factory.user(a.client.id, email=SENDER, name="Ana")
    mailbox.clear()
    row = deliver(app, run_jobs, mail(subject="Pedido por e-mail"))
    run_jobs()
    with app.app_context():
        approval = db.session.scalar(select(TicketApproval).where(TicketApproval.ticket_id == row.ticket_id))
        responsible = db.session.get(Client, a.client.id)
        assert [v.account_id for v in approval.votes] == [responsible.responsible_account_id]
        assert approval.requested_by_account_id == ana.id  # written as the sender, outside a request
        assert db.session.get(Ticket, row.ticket_id).status_kind == StatusKind.WAITING_ON_CLIENT
    assert mailbox.to(responsible.email)


def test_the_portal_ticket_page_shows_who_decided_what_to_those_who_see_the_ticket(
    app, world, agent, make_browser, mailbox, run_jobs
):
    supervisor, colleague, _third = world["users"]
    with app.app_context():
        db.session.get(Account, supervisor.id).permissions = [perm.PORTAL, perm.ALL_TICKETS]
        db.session.commit()
    mailbox.clear()
    ticket_id = ask(agent, world, rule=ApprovalRule.ALL, users=[supervisor, colleague])
    run_jobs()
    approval = approval_id(app, ticket_id)
    first = signed_in(make_browser, supervisor.email)
    page = first.get(f"/app/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="ticket-approvals"' in page and 'id="approval-decide-link"' in page
    assert 'href="/app/approvals"' in page  # the workspace's Portal menu links it too
    decide(first, approval, "approved", "Pode seguir")
    page = first.get(f"/app/tickets/{ticket_id}").get_data(as_text=True)
    panel = page[page.index('id="ticket-approvals"') :]
    assert 'data-vote="approved"' in panel and "Pode seguir" in panel and 'data-vote=""' in panel
    assert 'id="approval-decide-link"' not in page
    # The colleague is asked but does not see the ticket: its page is a 404 to them.
    second = signed_in(make_browser, colleague.email)
    assert second.get(f"/app/tickets/{ticket_id}").status_code == 404
    # The requester is told the outcome with a link to the ticket in the portal.
    mailbox.clear()
    decide(second, approval, "approved")
    run_jobs()
    (message,) = mailbox.to(world["requester"])
    assert f"{CANONICAL}/app/tickets/{ticket_id}" in message["text"]


def test_the_demos_approvals_wait_for_ana_and_show_an_earlier_decision(app, tenants, world, make_browser):
    ana = world["users"][0]
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        owner = db.session.scalar(
            select(Account.id).where(Account.reseller_id == tenants.a.id, Account.kind == STAFF)
        )
        seed_approvals(client, db.session.get(Account, ana.id), db.session.get(Desk, world["desk"].id), owner)
        db.session.commit()
    page = signed_in(make_browser, ana.email).get("/app/approvals").get_data(as_text=True)
    waiting = page[page.index('id="approvals-waiting"') : page.index('id="approvals-past"')]
    assert "Compra de 10 licenças extras" in waiting and "De acordo, dentro do orçamento." in waiting
    assert "Nova mensagem de boas-vindas" in page[page.index('id="approvals-past"') :]

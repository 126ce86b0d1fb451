"""Approvals of a ticket (issue 15, seed 004), the rules (messages in pt-BR, the
default): asked of named users of the ticket's client under a rule (any one, all, N of
M); the ticket waits on the client and moves on only when the rule is met (open) or can
no longer be met (closed); every refusal of a request or a decision leaves nothing
written; staff cannot change the status while it is pending; a desk's rule asks by
itself when a ticket is opened."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.models import AuditEvent, Reseller
from desk import approvals
from desk.merging import BulkAction, bulk
from desk.models import Desk, DeskStaff
from desk.replies import public_reply
from desk.review_models import TicketApproval, TicketApprovalVote
from desk.states import ApprovalRule, ApprovalState, EntryKind, EventType, StatusKind, VoteDecision
from desk.statuses import default_status
from desk.ticket_changes import change_status
from desk.ticket_models import Ticket, TicketEntry
from desk.tickets import TicketRefused, open_ticket
from reseller.resellers import create_reseller
from tenant.models import Client
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def setup(factory, tenants):
    a = tenants.a
    desk = factory.desk(a.id, name="Compras", client_ids=[a.client.id])
    staff = factory.staff(a.id, permissions=[perm.DESKS], email="agente@a.test")
    db.session.add(DeskStaff(desk_id=desk.id, account_id=staff.id, reseller_id=a.id))
    users = [
        factory.user(a.client.id, email=f"aprovador{n}@alpha.test", name=f"Aprovador {n}") for n in (1, 2, 3)
    ]
    db.session.commit()
    client = db.session.get(Client, a.client.id)
    requester = db.session.get(Account, client.responsible_account_id)
    ticket = open_ticket(db.session.get(Desk, desk.id), client, requester, "Comprar notebook", "Modelo X")
    db.session.commit()
    return {
        "ticket": ticket,
        "desk": db.session.get(Desk, desk.id),
        "client": client,
        "requester": requester,
        "staff": db.session.get(Account, staff.id),
        "users": [db.session.get(Account, u.id) for u in users],
    }


def ids(accounts) -> list[int]:
    return [a.id for a in accounts]


def vote(approval, account, decision, comment=""):
    locked = approvals.locked_approval(approval.id, account)
    assert locked is not None
    return approvals.decide(locked, account, decision, comment)


def approval_events(ticket) -> list[dict]:
    rows = db.session.scalars(
        select(TicketEntry).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.id)
    )
    return [
        e.event["after"] for e in rows if e.kind == EntryKind.EVENT and e.event["type"] == EventType.APPROVAL
    ]


def test_two_of_three_the_first_approval_waits_the_second_opens_the_ticket(setup):
    ticket, (u1, u2, u3) = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, ids(setup["users"]), ApprovalRule.N_OF_M, "2", "Acima do orçamento")
    db.session.commit()
    assert (approval.state, approval.needed, len(approval.votes)) == (ApprovalState.PENDING, 2, 3)
    assert ticket.status_kind == StatusKind.WAITING_ON_CLIENT
    assert ticket.status_id == default_status(ticket.reseller_id, StatusKind.WAITING_ON_CLIENT).id
    vote(approval, u1, VoteDecision.APPROVED, "Ok")
    db.session.commit()
    assert approval.state == ApprovalState.PENDING and ticket.status_kind == StatusKind.WAITING_ON_CLIENT
    vote(approval, u2, VoteDecision.APPROVED)
    db.session.commit()
    assert approval.state == ApprovalState.APPROVED and approval.decided_at is not None
    assert ticket.status_kind == StatusKind.OPEN
    with pytest.raises(TicketRefused, match="não está mais pendente"):
        vote(approval, u3, VoteDecision.APPROVED)
    states = [e.get("state") or e.get("vote") for e in approval_events(ticket)]
    assert states == ["pending", "approved", "approved", "approved"]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "ticket.approval")) == 4


def test_all_with_one_refusal_is_refused_and_the_ticket_closed_with_the_comment(setup):
    ticket, (u1, u2, _u3) = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, ids(setup["users"]), ApprovalRule.ALL, None)
    assert approval.needed == 3
    vote(approval, u1, VoteDecision.APPROVED)
    vote(approval, u2, VoteDecision.REFUSED, "Sem verba este mês")
    assert approval.state == ApprovalState.REFUSED
    assert ticket.status_kind == StatusKind.CLOSED
    outcome = approval_events(ticket)[-1]
    assert outcome["state"] == ApprovalState.REFUSED
    assert outcome["comments"] == ["Aprovador 2: Sem verba este mês"]


def test_any_one_approval_is_enough(setup):
    ticket, users = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, ids(users), ApprovalRule.ANY, "3")
    assert approval.needed == 1
    vote(approval, users[2], VoteDecision.APPROVED)
    assert approval.state == ApprovalState.APPROVED and ticket.status_kind == StatusKind.OPEN


def test_n_of_m_refused_once_it_can_no_longer_be_met(setup):
    ticket, (u1, u2, _u3) = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, ids(setup["users"]), ApprovalRule.N_OF_M, 2)
    vote(approval, u1, VoteDecision.REFUSED, "Não")
    assert approval.state == ApprovalState.PENDING  # 2 of the 2 left may still approve
    vote(approval, u2, VoteDecision.REFUSED, "Também não")
    assert approval.state == ApprovalState.REFUSED and ticket.status_kind == StatusKind.CLOSED


def nothing_written(ticket) -> bool:
    return (
        db.session.scalar(select(func.count(TicketApproval.id))) == 0
        and db.session.scalar(select(func.count(TicketApprovalVote.id))) == 0
        and approval_events(ticket) == []
        and ticket.status_kind == StatusKind.NEW
    )


def test_a_request_is_refused_as_a_whole_and_writes_nothing(setup, factory, tenants):
    ticket, users = setup["ticket"], setup["users"]
    neighbour = factory.client(tenants.a.id, trade_name="Vizinha")
    outsider = factory.user(neighbour.id, email="fora@vizinha.test")
    b_user = factory.user(tenants.b.client.id, email="fora@beta.test")
    many = [factory.user(tenants.a.client.id, email=f"muitos{n}@alpha.test").id for n in range(18)]
    db.session.commit()  # the factory's rows outlive the rollbacks below
    cases = [
        ([*ids(users), outsider.id], ApprovalRule.ANY, None, "usuários ativos do cliente"),
        ([b_user.id], ApprovalRule.ANY, None, "usuários ativos do cliente"),
        ([999_999], ApprovalRule.ANY, None, "usuários ativos do cliente"),
        ([], ApprovalRule.ANY, None, "ao menos um aprovador"),
        ([*ids(users), *many], ApprovalRule.ANY, None, "no máximo 20"),
        (ids(users), ApprovalRule.N_OF_M, "0", "entre 1 e 3"),
        (ids(users), ApprovalRule.N_OF_M, "4", "entre 1 e 3"),
        (ids(users), ApprovalRule.N_OF_M, "", "entre 1 e 3"),
        (ids(users), ApprovalRule.NONE, None, "Escolha quem deve aprovar"),
        (ids(users), "sometimes", None, "Escolha quem deve aprovar"),
    ]
    for approver_ids, rule, needed, message in cases:
        with pytest.raises(TicketRefused, match=message):
            approvals.request(ticket, approver_ids, rule, needed)
        db.session.rollback()
        assert nothing_written(ticket), (approver_ids, rule, needed)
    # Twenty is the most, and the same user twice counts once.
    twenty = approvals.request(ticket, [*ids(users), *many[:17], users[0].id], ApprovalRule.ALL)
    assert len(twenty.votes) == 20 and twenty.needed == 20


def test_a_second_pending_approval_and_a_finished_ticket_are_refused(setup):
    ticket, users = setup["ticket"], setup["users"]
    approvals.request(ticket, ids(users[:1]), ApprovalRule.ANY)
    db.session.commit()
    with pytest.raises(TicketRefused, match="já aguarda uma aprovação"):
        approvals.request(ticket, ids(users[1:]), ApprovalRule.ANY)
    approvals.cancel(ticket)
    change_status(ticket, default_status(ticket.reseller_id, StatusKind.CLOSED))
    with pytest.raises(TicketRefused, match="chamado finalizado"):
        approvals.request(ticket, ids(users), ApprovalRule.ANY)


def test_decide_is_refused_to_a_non_approver_twice_and_a_refusal_needs_a_comment(setup):
    ticket, (u1, u2, u3) = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, [u1.id, u2.id], ApprovalRule.ALL)
    db.session.commit()
    # Not asked: no approval to lock (a 404 to the page); and the rule refuses too.
    assert approvals.locked_approval(approval.id, u3) is None
    assert approvals.locked_approval(approval.id, setup["staff"]) is None
    with pytest.raises(TicketRefused, match="não foi solicitada"):
        approvals.decide(approval, u3, VoteDecision.APPROVED)
    with pytest.raises(TicketRefused, match="Comentário é obrigatório"):
        vote(approval, u1, VoteDecision.REFUSED, "   ")
    with pytest.raises(TicketRefused, match="no máximo 2000"):
        vote(approval, u1, VoteDecision.REFUSED, "x" * 2001)
    with pytest.raises(TicketRefused, match="Aprove ou recuse"):
        vote(approval, u1, "maybe")
    vote(approval, u1, VoteDecision.APPROVED)
    with pytest.raises(TicketRefused, match="já decidiu"):
        vote(approval, u1, VoteDecision.REFUSED, "Mudei de ideia")
    assert approval.state == ApprovalState.PENDING


def test_a_cancelled_approval_takes_no_vote_and_reopens_the_ticket(setup):
    ticket, users = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, ids(users), ApprovalRule.ANY)
    approvals.cancel(ticket)
    assert approval.state == ApprovalState.CANCELLED and ticket.status_kind == StatusKind.OPEN
    with pytest.raises(TicketRefused, match="não está mais pendente"):
        vote(approval, users[0], VoteDecision.APPROVED)
    with pytest.raises(TicketRefused, match="não tem aprovação pendente"):
        approvals.cancel(ticket)


def test_while_pending_staff_status_changes_bulk_and_merge_are_refused_and_a_reply_keeps_it_waiting(setup):
    ticket, users = setup["ticket"], setup["users"]
    approvals.request(ticket, ids(users), ApprovalRule.ANY)
    for kind in (StatusKind.OPEN, StatusKind.CLOSED):
        with pytest.raises(TicketRefused, match="cancele a aprovação"):
            change_status(ticket, default_status(ticket.reseller_id, kind))
    done, refused = bulk([ticket], BulkAction.CLOSE)
    assert done == 0 and "cancele a aprovação" in refused[0][1]
    public_reply(ticket, "Alguma novidade?", setup["requester"])
    assert ticket.status_kind == StatusKind.WAITING_ON_CLIENT
    approvals.cancel(ticket)
    change_status(ticket, default_status(ticket.reseller_id, StatusKind.CLOSED))
    assert ticket.status_kind == StatusKind.CLOSED


def test_the_desks_rule_asks_the_supervisors_and_the_responsible_user(setup):
    desk, client, (u1, u2, u3) = setup["desk"], setup["client"], setup["users"]
    desk.approval_rule, desk.approvals_needed = ApprovalRule.N_OF_M, 5
    u1.permissions = [perm.PORTAL, perm.ALL_TICKETS]
    u2.permissions = [perm.ALL_TICKETS]  # no portal: cannot decide there
    db.session.commit()
    ticket = open_ticket(desk, client, u3, "Novo pedido")
    approval = approvals.request_for_desk_rule(ticket)
    assert sorted(approvals.voter_ids(approval)) == sorted([setup["requester"].id, u1.id])
    assert approval.rule == ApprovalRule.N_OF_M and approval.needed == 2  # capped to the approvers
    assert ticket.status_kind == StatusKind.WAITING_ON_CLIENT


def test_the_desks_rule_without_anyone_to_ask_leaves_an_internal_note(setup):
    desk, client, users = setup["desk"], setup["client"], setup["users"]
    desk.approval_rule = ApprovalRule.ALL
    db.session.get(Account, client.responsible_account_id).active = False
    db.session.commit()
    ticket = open_ticket(desk, client, users[0], "Sem aprovadores")
    assert approvals.request_for_desk_rule(ticket) is None
    note = db.session.scalar(
        select(TicketEntry).where(
            TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.INTERNAL_NOTE
        )
    )
    assert "Nenhuma aprovação foi solicitada" in note.body
    assert ticket.status_kind == StatusKind.NEW
    desk.approval_rule = ApprovalRule.NONE
    assert approvals.request_for_desk_rule(open_ticket(desk, client, users[0], "Sem regra")) is None
    assert db.session.scalar(select(func.count(TicketApproval.id))) == 0


def test_an_approvers_lists_hold_what_waits_and_what_was_decided(setup):
    ticket, (u1, u2, u3) = setup["ticket"], setup["users"]
    approval = approvals.request(ticket, [u1.id, u2.id], ApprovalRule.ALL)
    assert approvals.of_approver(u1, pending=True) == [approval]
    assert approvals.of_approver(u3, pending=True) == []
    vote(approval, u1, VoteDecision.APPROVED)
    assert approvals.of_approver(u1, pending=True) == []
    assert approvals.of_approver(u1, pending=False) == [approval]
    assert approvals.waits_for(approval, u2) and not approvals.waits_for(approval, u1)
    assert approvals.tickets_of([approval]) == {ticket.id: db.session.get(Ticket, ticket.id)}


@pytest.mark.real_commits
def test_two_last_votes_at_once_finish_the_approval_once(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    with app.test_request_context("/", base_url="http://votos.test"):
        reseller, _login = create_reseller(name="Votos", host="votos.test", owner_email="dono@votos.test")
        db.session.commit()
        reseller_id = reseller.id
    made = Factory(app, password="x" * 20)
    client = made.client(reseller_id, trade_name="Concorrente")
    desk = made.desk(reseller_id, name="Mesa", client_ids=[client.id])
    voters = [made.user(client.id, email=f"voto{n}@votos.test").id for n in range(2)]
    with app.app_context():
        c = db.session.get(Client, client.id)
        ticket = open_ticket(db.session.get(Desk, desk.id), c, db.session.get(Account, voters[0]), "Já")
        approval_id = approvals.request(ticket, voters, ApprovalRule.ANY).id
        ticket_id = ticket.id
        db.session.commit()
    outcomes, start = [], threading.Barrier(2, timeout=10)

    def approve(account_id: int) -> None:
        with app.app_context():
            try:
                account = db.session.get(Account, account_id)
                start.wait()
                approvals.decide(
                    approvals.locked_approval(approval_id, account), account, VoteDecision.APPROVED
                )
                db.session.commit()
                outcomes.append("decided")
            except TicketRefused:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(account_id,)) for account_id in voters]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["decided", "refused"]
        with app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            finished = [e for e in approval_events(ticket) if e.get("state") == ApprovalState.APPROVED]
            assert len(finished) == 1 and ticket.status_kind == StatusKind.OPEN
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.execute(delete(Ticket).where(Ticket.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()

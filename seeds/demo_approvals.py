"""The demo's approvals (issue 15): a purchase waiting for Ana Atendente's decision (all
must approve; the client's responsible user already did), and an earlier one she
approved, so the approvals page and both ticket pages show who decided what on the
first visit. Written through ``desk.approvals``, as staff and the users would."""

from __future__ import annotations

from datetime import timedelta

from auth.models import Account
from core.extensions import db
from core.timeutil import utcnow
from desk import approvals
from desk.models import Desk
from desk.states import ApprovalRule, StatusKind, VoteDecision
from desk.tickets import written_by
from seeds.demo_desks import open_demo_ticket


def _days_ago(days: int):
    return (utcnow() - timedelta(days=days)).replace(microsecond=0)


def seed_approvals(client, agent: Account, desk: Desk, staff_id: int) -> None:
    responsible = db.session.get(Account, client.responsible_account_id)
    approvers = [agent.id, responsible.id]
    waiting = open_demo_ticket(desk, client, "Compra de 10 licenças extras", StatusKind.OPEN, _days_ago(1))
    earlier = open_demo_ticket(desk, client, "Nova mensagem de boas-vindas", StatusKind.OPEN, _days_ago(8))
    for ticket in (waiting, earlier):
        ticket.requester_account_id = responsible.id
    with written_by(staff_id):
        pending = approvals.request(waiting, approvers, ApprovalRule.ALL, note="Acima do limite do contrato.")
        done = approvals.request(earlier, approvers, ApprovalRule.ANY, note="Texto novo para o WhatsApp.")
    with written_by(responsible.id):
        approvals.decide(pending, responsible, VoteDecision.APPROVED, "De acordo, dentro do orçamento.")
    with written_by(agent.id):
        approvals.decide(done, agent, VoteDecision.APPROVED, "Pode publicar.")
    db.session.flush()

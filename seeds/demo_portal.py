"""The demo's client portal (issue 15): each client's responsible user holds what a
responsible user holds (the portal, its reports, every ticket) and asked its client's
tickets; Ana Atendente (``agent@demo.test``) has tickets in every state, with replies
from the support team and hers, so the portal shows something on the first visit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.timeutil import utcnow
from desk import sla_state
from desk.models import Desk
from desk.states import EntryKind, StatusKind
from desk.ticket_models import Ticket
from desk.tickets import add_entry, written_by
from seeds.demo_approvals import seed_approvals
from seeds.demo_desks import open_demo_ticket

# (subject, kind, days ago, the support team's reply, Ana's reply)
ANA_TICKETS = (
    ("Não consigo enviar áudios pelo WhatsApp", StatusKind.NEW, 0, None, None),
    (
        "Relatório mensal de atendimentos",
        StatusKind.OPEN,
        2,
        "Olá, Ana! Já estamos gerando o relatório e enviamos até amanhã.",
        "Obrigada! Preciso dele para a reunião de sexta.",
    ),
    (
        "Alterar o horário de atendimento",
        StatusKind.WAITING_ON_CLIENT,
        4,
        "Ana, qual horário vocês querem para o sábado?",
        None,
    ),
    (
        "Erro ao exportar os contatos",
        StatusKind.PENDING_REVIEW,
        6,
        "Corrigimos a exportação: pode testar de novo? Se estiver tudo certo, é só aceitar a solução.",
        None,
    ),
    (
        "Troca do número do WhatsApp",
        StatusKind.RESOLVED,
        12,
        "O número novo já está ativo no atendimento.",
        "Funcionou, obrigada!",
    ),
)
# Past the days the demo holds still (seeds.demo.STILL_FOR_DAYS): no sweep accepts it first.
REVIEW_DAYS_LEFT = 9


def _at(days_ago: int, hours: int = 0) -> datetime:
    return (utcnow() - timedelta(days=days_ago) + timedelta(hours=hours)).replace(microsecond=0)


def seed_portal(clients, agent: Account, desk: Desk, staff_id: int) -> None:
    for client in clients:
        responsible = db.session.get(Account, client.responsible_account_id)
        responsible.permissions = sorted(
            set(responsible.permissions or []) | set(perm.RESPONSIBLE_PERMISSIONS)
        )
        for ticket in db.session.scalars(
            select(Ticket).where(Ticket.client_id == client.id, Ticket.requester_account_id.is_(None))
        ):
            ticket.requester_account_id = responsible.id
    client = next(c for c in clients if c.id == agent.client_id)
    for subject, kind, days, staff_reply, client_reply in ANA_TICKETS:
        ticket = open_demo_ticket(desk, client, subject, kind, _at(days))
        ticket.requester_account_id = agent.id
        ticket.description = "Aberto pelo portal do cliente."
        if staff_reply:
            with written_by(staff_id):
                add_entry(ticket, EntryKind.PUBLIC_REPLY, body=staff_reply, at=_at(days, hours=2))
            ticket.first_responded_at = _at(days, hours=2)
        if client_reply:
            with written_by(agent.id):
                add_entry(ticket, EntryKind.PUBLIC_REPLY, body=client_reply, at=_at(days, hours=3))
        if kind in (StatusKind.PENDING_REVIEW, StatusKind.RESOLVED):
            ticket.resolved_at = _at(days, hours=4)
        if kind == StatusKind.PENDING_REVIEW:
            ticket.review_due_at = utcnow().replace(microsecond=0) + timedelta(days=REVIEW_DAYS_LEFT)
        db.session.flush()
        sla_state.refresh(ticket)
    # Approvals: one waiting for Ana, one she decided (seeds.demo_approvals).
    seed_approvals(client, agent, desk, staff_id)

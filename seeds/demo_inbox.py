"""The demo's inbox: a few contacts and conversations in the first client."""

from __future__ import annotations

from core.extensions import db
from tenant import inbox
from tenant.directory import ensure_channel
from tenant.inbox_models import CLOSED, Conversation, Message, Team, TeamMember


def seed_inbox(reseller, client, agent) -> None:
    """A few contacts and conversations in the first client, so the inbox has life:
    one assigned to the agent, one in the queue, one on a team, one closed."""
    ensure_channel(client)
    team = Team(reseller_id=reseller.id, client_id=client.id, name="Suporte")
    db.session.add(team)
    db.session.flush()
    db.session.add(
        TeamMember(reseller_id=reseller.id, client_id=client.id, team_id=team.id, account_id=agent.id)
    )
    script = [
        ("Joana Prado", "5511987650001", "Oi! Meu pedido ainda não chegou.", agent.id, None, False),
        ("Rafael Lima", "5521998760002", "Vocês abrem no sábado?", None, None, False),
        ("Beatriz Souza", "5531977770003", "Preciso da segunda via do boleto.", None, team.id, False),
        ("Carlos Mendes", "5541966660004", "Obrigado, resolvido!", agent.id, None, True),
    ]
    for n, (name, phone, text, assigned, team_id, closed) in enumerate(script, start=1):
        result = inbox.receive(client, phone=phone, name=name, text=text, external_id=f"demo-{n}")
        conversation = db.session.get(Conversation, result.message.conversation_id)
        conversation.assigned_account_id = assigned
        conversation.team_id = team_id
        if assigned:
            db.session.add(
                Message(
                    reseller_id=reseller.id,
                    client_id=client.id,
                    conversation_id=conversation.id,
                    direction="out",
                    body="Olá! Já vou verificar para você.",
                    author_account_id=assigned,
                )
            )
        if closed:
            conversation.status = CLOSED
    db.session.flush()

"""The demo's inbox: a few contacts and conversations in the first client."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.extensions import db
from core.timeutil import LOCAL_TZ
from tenant import inbox
from tenant.directory import ensure_channel
from tenant.inbox_models import CLOSED, Contact, Conversation, Message, SessionWindow, Team, TeamMember
from tenant.states import WindowSource


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


def seed_session_history(reseller, client, count: int, since: date, until: date) -> int:
    """``count`` past conversation windows of the client between ``since`` and the day
    before ``until`` (each consumed one session of the plan), so the client page's
    "sessions used" and its chart agree with the sessions the list shows as consumed.

    Returns how many it made (fewer when the period so far is too short). A few contacts
    take turns, one window a day each at its own hour: windows of a contact never overlap.
    """
    days = max(0, (until - since).days)
    if count <= 0 or days == 0:
        return 0
    per_day = -(-count // days)  # contacts needed so that one window a day each suffices
    contacts = [
        Contact(reseller_id=reseller.id, client_id=client.id, name=f"Cliente {n + 1}", phone=f"+55119{n:08d}")
        for n in range(min(per_day, 40))
    ]
    db.session.add_all(contacts)
    db.session.flush()
    made = 0
    for k in range(min(count, days * len(contacts))):
        contact = contacts[k % len(contacts)]
        day = since + timedelta(days=k // len(contacts))
        local = datetime.combine(day, time(8 + (k % len(contacts)) % 10), tzinfo=LOCAL_TZ)
        opened = local.astimezone(UTC).replace(tzinfo=None)
        db.session.add(
            SessionWindow(
                reseller_id=reseller.id,
                client_id=client.id,
                contact_id=contact.id,
                source=WindowSource.PLAN,
                opened_at=opened,
                expires_at=opened + timedelta(hours=24),
            )
        )
        made += 1
    return made

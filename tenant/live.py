"""What the workspace publishes on the live bus (:mod:`core.live`), one channel per client
(``client:<id>``): messages received and sent, conversations new / taken / transferred /
closed / reopened, a message's delivery status, the sessions counter.

An event carries what every reader needs to decide whether it may see it (the
conversation's assignee and team, before and after a transfer) and the contact's number
unmasked: the stream filters and masks it per reader (:mod:`tenant.live_filter`) before
anything leaves the server. Events are sent only when the transaction commits.
"""

from __future__ import annotations

from sqlalchemy import select

from core import live
from core.extensions import db
from tenant.inbox_models import Contact, Conversation, Message
from tenant.models import Client
from tenant.states import LiveChange, LiveKind

PREVIEW_CHARS = 80


def channel(client_id: int) -> str:
    return f"client:{client_id}"


def account_channel(account_id: int) -> str:
    """Wakes an account's open streams: what it may see changed (chat level, phones,
    teams), so they read it again before the next event."""
    return f"account:{account_id}"


def account_changed(*account_ids: int) -> None:
    for account_id in account_ids:
        live.publish(account_channel(account_id), {})


def preview(text: str | None) -> str:
    """A message's first words on one line, at most ``PREVIEW_CHARS`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1].rstrip() + "…"


def _conversation(conversation: Conversation, contact: Contact | None = None) -> dict:
    contact = contact or db.session.get(Contact, conversation.contact_id)
    return {
        "id": conversation.id,
        "assigned_account_id": conversation.assigned_account_id,
        "team_id": conversation.team_id,
        "status": str(conversation.status),
        "contact_name": contact.name,
        "phone": contact.phone,
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
    }


def _message(message: Message) -> dict:
    return {
        "id": message.id,
        "direction": str(message.direction),
        "preview": preview(message.body),
        "at": message.created_at.isoformat() if message.created_at else None,
    }


def message_stored(message: Message, conversation: Conversation, *, new_conversation: bool = False) -> None:
    """A message received or sent (and, with ``new_conversation``, the conversation it opened)."""
    live.publish(
        channel(conversation.client_id),
        {
            "kind": LiveKind.MESSAGE,
            "change": LiveChange.NEW if new_conversation else None,
            "conversation": _conversation(conversation),
            "message": _message(message),
        },
    )


def conversation_changed(conversation: Conversation, change: str, *, before: tuple | None = None) -> None:
    """The conversation was taken, transferred, closed or reopened (``change``:
    :class:`~tenant.states.LiveChange`); ``before``: its (assignee, team) before a transfer,
    so a reader that saw it and no longer may is told to drop it."""
    data = {"kind": LiveKind.CONVERSATION, "change": change, "conversation": _conversation(conversation)}
    if before is not None:
        data["before"] = {"assigned_account_id": before[0], "team_id": before[1]}
    live.publish(channel(conversation.client_id), data)


def delivery_changed(message: Message, status: str, *, error: str | None = None) -> None:
    """An outbound message's delivery status changed (sent, delivered, read, failed)."""
    conversation = db.session.get(Conversation, message.conversation_id)
    live.publish(
        channel(message.client_id),
        {
            "kind": LiveKind.DELIVERY,
            "conversation": _conversation(conversation),
            "message": {**_message(message), "status": str(status), "error": error},
        },
    )


def sessions_changed(client_id: int) -> None:
    """The client's sessions counter moved (a window opened, a pack credited...)."""
    remaining = db.session.scalar(select(Client.sessions_remaining).where(Client.id == client_id))
    live.publish(channel(client_id), {"kind": LiveKind.SESSIONS, "remaining": remaining})

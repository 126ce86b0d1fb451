"""Inbox rules: who sees and does what (chat levels), the inbound channel's signature,
and messages received and sent (their windows: :mod:`tenant.windows`)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import or_, select, update

from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow
from tenant import hooks, live
from tenant.inbox_models import Contact, Conversation, Message, SessionWindow, TeamMember
from tenant.models import Client
from tenant.states import ConversationStatus, LiveChange, MessageDirection, MessageKind
from tenant.windows import WindowRefused, touch_window

# Chat levels (SPEC): each level adds to the ones below it.
TAKE_FROM_QUEUE = 2
SEE_TEAMS = 3
ASSIGN = 4
SEE_ALL = 5
MANAGE_INBOX = 6


# --- who sees what ------------------------------------------------------------------


def team_ids(account) -> list[int]:
    return list(db.session.scalars(select(TeamMember.team_id).where(TeamMember.account_id == account.id)))


def teams_of_account(account_id):
    """A subquery of the teams of ``account_id`` (a value or a bound parameter)."""
    members = TeamMember.__table__.c
    return select(members.team_id).where(members.account_id == account_id).scalar_subquery()


def visibility(level: int, account_id, teams, columns=Conversation.__table__.c):
    """Who of chat ``level`` sees a conversation: the condition on ``columns`` (the
    table's, or a subquery's), None when the level sees every conversation of its
    client. ``account_id`` and ``teams`` (ids or a subquery; None or empty: none) are
    values or bound parameters: :func:`visible_conversations` and the inbox list's
    statements built once (``tenant.inbox_list``) share this rule."""
    if level >= SEE_ALL:
        return None
    allowed = [columns.assigned_account_id == account_id]
    if level >= TAKE_FROM_QUEUE:
        allowed.append(columns.assigned_account_id.is_(None))
    if level >= SEE_TEAMS and teams is not None:
        allowed.append(columns.team_id.in_(teams))
    return or_(*allowed)


def visible_conversations(account):
    """A ``select`` of the conversations this client user may see (chat level)."""
    stmt = scoped_select(Conversation, reseller_id=account.reseller_id, client_id=account.client_id)
    level = account.chat_level
    teams = (team_ids(account) or None) if SEE_TEAMS <= level < SEE_ALL else None
    rule = visibility(level, account.id, teams, Conversation)
    return stmt if rule is None else stmt.where(rule)


def may_see(account, team_ids_of_account, *, assigned_account_id: int | None, team_id: int | None) -> bool:
    """The rule of :func:`visible_conversations` for one conversation known by its
    assignee and team, without a query (the live stream decides each event with it)."""
    level = account.chat_level
    return (
        level >= SEE_ALL
        or assigned_account_id == account.id
        or (level >= TAKE_FROM_QUEUE and assigned_account_id is None)
        or (level >= SEE_TEAMS and team_id is not None and team_id in team_ids_of_account)
    )


def can_see(account, conversation: Conversation) -> bool:
    return (
        db.session.scalar(visible_conversations(account).where(Conversation.id == conversation.id))
        is not None
    )


def can_take(account, conversation: Conversation) -> bool:
    return account.chat_level >= TAKE_FROM_QUEUE and conversation.assigned_account_id is None


def can_assign(account) -> bool:
    return account.chat_level >= ASSIGN


def can_close(account, conversation: Conversation) -> bool:
    return account.chat_level >= MANAGE_INBOX or conversation.assigned_account_id == account.id


def can_manage_inbox(account) -> bool:
    return account.chat_level >= MANAGE_INBOX


# --- messages -----------------------------------------------------------------------


def channel_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str | None, body: bytes, header: str | None) -> bool:
    return bool(secret and header) and hmac.compare_digest(channel_signature(secret, body), header.strip())


@dataclass
class Inbound:
    message: Message
    duplicate: bool
    window: SessionWindow | None
    refused: str | None


@dataclass(frozen=True)
class Extras:
    """What a channel's message carries besides its text (a WhatsApp message: its kind,
    file, place and the message it answers); the generic inbound channel sends none."""

    kind: str = MessageKind.TEXT
    media_id: str | None = None
    media_key: str | None = None  # our own file in core.storage (a file we send)
    media_type: str | None = None
    media_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reply_to_external_id: str | None = None


def receive(
    client: Client,
    *,
    phone: str,
    name: str | None,
    text: str,
    external_id: str,
    sent_at: datetime | None = None,
    extras: Extras | None = None,
) -> Inbound:
    """Store a contact's message: find or create the contact and its open conversation,
    then open or extend the window. The same ``external_id`` twice is stored once.
    ``sent_at``: when the channel says the contact sent it (its ``created_at``; a late
    delivery never moves the conversation's last message back)."""
    existing = db.session.scalar(
        select(Message).where(Message.client_id == client.id, Message.external_id == external_id)
    )
    if existing is not None:
        return Inbound(existing, True, None, None)
    contact = db.session.scalar(select(Contact).where(Contact.client_id == client.id, Contact.phone == phone))
    if contact is None:
        contact = Contact(
            reseller_id=client.reseller_id, client_id=client.id, name=name or phone, phone=phone
        )
        db.session.add(contact)
        db.session.flush()
    conversation = db.session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id, Conversation.status == ConversationStatus.OPEN)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    now = utcnow()
    new_conversation = conversation is None
    at = sent_at or now
    if conversation is None:
        conversation = Conversation(
            reseller_id=client.reseller_id,
            client_id=client.id,
            contact_id=contact.id,
            created_at=now,
            last_message_at=at,
        )
        db.session.add(conversation)
        db.session.flush()
    # A late delivery never moves the conversation's last message back.
    newest = at >= conversation.last_message_at
    if newest:
        conversation.last_message_at = at
    message = Message(
        reseller_id=client.reseller_id,
        client_id=client.id,
        conversation_id=conversation.id,
        direction=MessageDirection.INBOUND,
        body=text,
        external_id=external_id,
        created_at=at,
        **asdict(extras or Extras()),
    )
    db.session.add(message)
    db.session.flush()
    if newest:
        conversation.last_message_id = conversation.last_inbound_message_id = message.id
    live.message_stored(message, conversation, new_conversation=new_conversation)
    try:
        window = touch_window(contact, conversation, may_open=True)
    except WindowRefused as refused:
        return Inbound(message, False, None, refused.reason)
    return Inbound(message, False, window, None)


def send(
    conversation: Conversation,
    author,
    body: str,
    *,
    template: bool = False,
    actor_id=None,
    extras: Extras | None = None,
) -> Message:
    """Our message to the contact (``extras``: a file we send with it). Outside an open
    window only a template message may be sent, and it opens a window (one session)."""
    contact = db.session.get(Contact, conversation.contact_id)
    touch_window(contact, conversation, may_open=template)
    now = utcnow()
    message = Message(
        reseller_id=conversation.reseller_id,
        client_id=conversation.client_id,
        conversation_id=conversation.id,
        direction=MessageDirection.OUTBOUND,
        body=body,
        author_account_id=author.id,
        actor_account_id=actor_id if actor_id and actor_id != author.id else None,
        is_template=template,
        created_at=now,
        **asdict(extras or Extras()),
    )
    db.session.add(message)
    conversation.last_message_at = now
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
    db.session.flush()
    conversation.last_message_id = message.id
    live.message_stored(message, conversation)
    audit.record("inbox.message_sent", conversation, details={"message_id": message.id, "template": template})
    hooks.message_sent(message)
    return message


def set_delivery_status(message: Message, status: str, *, error: str | None = None) -> None:
    """Hook point for the channel that delivers ``message`` (WhatsApp): it records the
    status in its own columns, then calls this, which tells the open pages."""
    live.delivery_changed(message, status, error=error)


def take(conversation: Conversation, account) -> bool:
    """Assign an unassigned conversation to ``account``; False when someone was faster."""
    won = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.assigned_account_id.is_(None))
        .values(assigned_account_id=account.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(conversation)
    if won:
        audit.record("inbox.conversation_taken", conversation)
        live.conversation_changed(conversation, LiveChange.TAKEN, before=(None, conversation.team_id))
    return won == 1


def assign(conversation: Conversation, *, account_id: int | None, team_id: int | None) -> None:
    """Give the conversation to a user and/or a team (ids the caller checked are the client's)."""
    before = (conversation.assigned_account_id, conversation.team_id)
    if account_id:
        conversation.assigned_account_id = account_id
    if team_id:
        conversation.team_id = team_id
    audit.record(
        "inbox.conversation_assigned", conversation, details={"account_id": account_id, "team_id": team_id}
    )
    live.conversation_changed(conversation, LiveChange.ASSIGNED, before=before)


def close(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.CLOSED
    audit.record("inbox.conversation_closed", conversation)
    live.conversation_changed(conversation, LiveChange.CLOSED)


def reopen(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.OPEN
    audit.record("inbox.conversation_reopened", conversation)
    live.conversation_changed(conversation, LiveChange.REOPENED)


def messages_of(conversation: Conversation) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
    )


def quoted_message(message: Message) -> Message | None:
    """The message of the same conversation that ``message`` answers, if it is stored."""
    if not message.reply_to_external_id:
        return None
    return db.session.scalar(
        select(Message).where(
            Message.client_id == message.client_id,
            Message.conversation_id == message.conversation_id,
            Message.external_id == message.reply_to_external_id,
        )
    )

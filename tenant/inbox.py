"""Inbox rules: who sees and does what (chat levels), phone masking, and the
24-hour conversation windows that consume the client's sessions atomically."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from tenant.inbox_models import (
    CLOSED,
    INBOUND,
    OPEN,
    OUTBOUND,
    Contact,
    Conversation,
    Message,
    SessionWindow,
    TeamMember,
)
from tenant.models import Client

WINDOW = timedelta(hours=24)
PLAN = "plan"
EXTRA = "extra"

# Chat levels (SPEC): each level adds to the ones below it.
TAKE_FROM_QUEUE = 2
SEE_TEAMS = 3
ASSIGN = 4
SEE_ALL = 5
MANAGE_INBOX = 6


class WindowRefused(Exception):
    """No new conversation window: ``reason`` is ``suspended`` or ``no_sessions``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


SUSPENDED = "suspended"
NO_SESSIONS = "no_sessions"
CLIENT_GONE = "client_gone"
WINDOW_CLOSED = "window_closed"


# --- phones -------------------------------------------------------------------------


def normalise_phone(raw: str | None) -> str | None:
    """Digits of an E.164 number; Brazilian numbers without country code get 55."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) in (10, 11):
        digits = "55" + digits
    return digits if 10 <= len(digits) <= 15 else None


def format_phone(phone: str | None) -> str:
    if not phone:
        return "—"
    if phone.startswith("55") and len(phone) in (12, 13):
        area, number = phone[2:4], phone[4:]
        return f"+55 {area} {number[:-4]}-{number[-4:]}"
    return f"+{phone}"


def mask_phone(phone: str | None) -> str:
    """``+55 11 ****-**21``: country and area code, the last two digits, nothing else."""
    if not phone:
        return "—"
    if phone.startswith("55") and len(phone) in (12, 13):
        return f"+55 {phone[2:4]} ****-**{phone[-2:]}"
    return f"+{phone[:2]} ****-**{phone[-2:]}"


def shown_phone(account, phone: str | None) -> str:
    return format_phone(phone) if account.view_phones else mask_phone(phone)


# --- who sees what ------------------------------------------------------------------


def team_ids(account) -> list[int]:
    return list(db.session.scalars(select(TeamMember.team_id).where(TeamMember.account_id == account.id)))


def visible_conversations(account):
    """A ``select`` of the conversations this client user may see (chat level)."""
    stmt = select(Conversation).where(
        Conversation.client_id == account.client_id, Conversation.reseller_id == account.reseller_id
    )
    level = account.chat_level
    if level >= SEE_ALL:
        return stmt
    allowed = [Conversation.assigned_account_id == account.id]
    if level >= TAKE_FROM_QUEUE:
        allowed.append(Conversation.assigned_account_id.is_(None))
    if level >= SEE_TEAMS:
        teams = team_ids(account)
        if teams:
            allowed.append(Conversation.team_id.in_(teams))
    return stmt.where(or_(*allowed))


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


# --- sessions: the 24-hour windows ----------------------------------------------------


def open_window(contact: Contact, *, at: datetime | None = None) -> SessionWindow | None:
    """The contact's open window, if any (expires strictly after ``at``)."""
    at = at or utcnow()
    return db.session.scalar(
        select(SessionWindow)
        .where(
            SessionWindow.client_id == contact.client_id,
            SessionWindow.contact_id == contact.id,
            SessionWindow.expires_at > at,
        )
        .order_by(SessionWindow.expires_at.desc())
        .limit(1)
    )


def _lock_contact(contact: Contact) -> None:
    # Serialises window decisions for one contact (PostgreSQL row lock; SQLite locks
    # the whole database on the first write anyway).
    db.session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update()).scalar_one()


def consume_session(client_id: int) -> str:
    """Take one session from the client: the plan's first, then the extras.

    Each step is one conditional UPDATE, so with N sessions left and many concurrent
    callers exactly N succeed and the balance never goes below zero.
    """
    usable = (
        Client.id == client_id,
        Client.suspended.is_(False),
        Client.deleted_at.is_(None),
        Client.inactivated_at.is_(None),
    )
    took_plan = db.session.execute(
        update(Client)
        .where(*usable, Client.sessions_consumed < Client.sessions_quota)
        .values(sessions_consumed=Client.sessions_consumed + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took_plan == 1:
        return PLAN
    took_extra = db.session.execute(
        update(Client)
        .where(*usable, Client.extra_balance > 0)
        .values(extra_balance=Client.extra_balance - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took_extra == 1:
        return EXTRA
    state = db.session.execute(
        select(Client.suspended, Client.deleted_at, Client.inactivated_at).where(Client.id == client_id)
    ).one()
    if state.deleted_at is not None or state.inactivated_at is not None:
        raise WindowRefused(CLIENT_GONE)
    raise WindowRefused(SUSPENDED if state.suspended else NO_SESSIONS)


def touch_window(contact: Contact, conversation: Conversation | None, *, may_open: bool) -> SessionWindow:
    """Extend the contact's open window to 24 hours from now, or open a new one.

    Opening consumes one session and is allowed only when ``may_open`` (a contact's
    message, or our template message); raises :class:`WindowRefused` otherwise.
    """
    now = utcnow()
    _lock_contact(contact)
    window = open_window(contact, at=now)
    if window is not None:
        window.expires_at = now + WINDOW
        if conversation is not None and window.conversation_id is None:
            window.conversation_id = conversation.id
        return window
    if not may_open:
        raise WindowRefused(WINDOW_CLOSED)
    source = consume_session(contact.client_id)
    window = SessionWindow(
        reseller_id=contact.reseller_id,
        client_id=contact.client_id,
        contact_id=contact.id,
        conversation_id=conversation.id if conversation is not None else None,
        source=source,
        opened_at=now,
        expires_at=now + WINDOW,
    )
    db.session.add(window)
    db.session.flush()
    return window


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


def receive(client: Client, *, phone: str, name: str | None, text: str, external_id: str) -> Inbound:
    """Store a contact's message: find or create the contact and its open conversation,
    then open or extend the window. The same ``external_id`` twice is stored once."""
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
        .where(Conversation.contact_id == contact.id, Conversation.status == OPEN)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    now = utcnow()
    if conversation is None:
        conversation = Conversation(
            reseller_id=client.reseller_id, client_id=client.id, contact_id=contact.id, created_at=now
        )
        db.session.add(conversation)
        db.session.flush()
    conversation.last_message_at = now
    message = Message(
        reseller_id=client.reseller_id,
        client_id=client.id,
        conversation_id=conversation.id,
        direction=INBOUND,
        body=text,
        external_id=external_id,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    try:
        window = touch_window(contact, conversation, may_open=True)
    except WindowRefused as refused:
        return Inbound(message, False, None, refused.reason)
    return Inbound(message, False, window, None)


def send(conversation: Conversation, author, body: str, *, template: bool = False, actor_id=None) -> Message:
    """Our message to the contact. Outside an open window only a template message may
    be sent, and it opens a window (one session)."""
    contact = db.session.get(Contact, conversation.contact_id)
    touch_window(contact, conversation, may_open=template)
    now = utcnow()
    message = Message(
        reseller_id=conversation.reseller_id,
        client_id=conversation.client_id,
        conversation_id=conversation.id,
        direction=OUTBOUND,
        body=body,
        author_account_id=author.id,
        actor_account_id=actor_id if actor_id and actor_id != author.id else None,
        is_template=template,
        created_at=now,
    )
    db.session.add(message)
    conversation.last_message_at = now
    if conversation.status == CLOSED:
        conversation.status = OPEN
    db.session.flush()
    audit.record("inbox.message_sent", conversation, details={"message_id": message.id, "template": template})
    return message


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
    return won == 1

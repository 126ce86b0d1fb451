"""The client's customer-service inbox: contacts, conversations, messages, teams,
and the 24-hour conversation windows that consume the client's sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.extensions import db
from core.timeutil import utcnow
from tenant.phones import normalise_phone
from tenant.states import ConversationStatus, MessageDirection, MessageKind

# Kept for the callers that import them from here (seed data).
OPEN = ConversationStatus.OPEN
CLOSED = ConversationStatus.CLOSED
INBOUND = MessageDirection.INBOUND
OUTBOUND = MessageDirection.OUTBOUND


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("client_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[TeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan")


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id"),
        Index("ix_team_members_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))

    team: Mapped[Team] = relationship(back_populates="members")
    account = relationship("Account")


class Contact(db.Model):
    """Someone the client talks to; the phone is stored in E.164 (``+5511987654321``),
    the one format of :mod:`tenant.phones` (whoever writes it, it is normalised here)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("client_id", "phone"),
        Index("ix_contacts_client_name", "client_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @validates("phone")
    def _store_e164(self, _key, value):
        return normalise_phone(value) or value


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_client_last", "client_id", "last_message_at"),
        Index("ix_conversations_assignee", "assigned_account_id", "status"),
        Index("ix_conversations_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    assigned_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), server_default=OPEN.value, default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest message (its preview in the list) and the newest from the contact (unread
    # when newer than what an account read): kept by tenant.inbox, no FK (set after insert).
    last_message_id: Mapped[int | None]
    last_inbound_message_id: Mapped[int | None]

    contact: Mapped[Contact] = relationship()
    assignee = relationship("Account", foreign_keys=[assigned_account_id])
    team: Mapped[Team | None] = relationship()


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        # Inbound messages carry the channel's id: delivering one twice stores it once.
        UniqueConstraint("client_id", "external_id"),
        # Deleting an account (a client's purge) sets these to NULL: without an index
        # each deleted account scans every message. Partial: most rows have none.
        Index(
            "ix_messages_author",
            "author_account_id",
            postgresql_where=text("author_account_id IS NOT NULL"),
            sqlite_where=text("author_account_id IS NOT NULL"),
        ),
        Index(
            "ix_messages_actor",
            "actor_account_id",
            postgresql_where=text("actor_account_id IS NOT NULL"),
            sqlite_where=text("actor_account_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    body: Mapped[str] = mapped_column(Text)
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Set when staff wrote it while acting as the author (log in as).
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(100))
    is_template: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What a channel's message carries besides its text (migration 0040): its kind, its
    # file (the channel's media id; once downloaded, its key in core.storage, detected
    # type and display name), a place, the message it answers (the channel's id) and the
    # contact's reaction to it.
    kind: Mapped[str] = mapped_column(
        String(12), server_default=MessageKind.TEXT.value, default=MessageKind.TEXT
    )
    media_id: Mapped[str | None] = mapped_column(String(200))
    media_key: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(120))
    media_name: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    reply_to_external_id: Mapped[str | None] = mapped_column(String(100))
    reaction: Mapped[str | None] = mapped_column(String(32))
    # How far our outbound message got on its channel (tenant.states.DeliveryStatus), when
    # the channel said so, and why it failed (written by whatsapp.delivery only).
    delivery_status: Mapped[str | None] = mapped_column(String(12))
    delivery_status_at: Mapped[datetime | None]
    delivery_error: Mapped[str | None] = mapped_column(String(300))

    author = relationship("Account", foreign_keys=[author_account_id])


class SessionWindow(db.Model):
    """A 24-hour conversation window with one contact: each one consumed a session.

    ``source`` says what paid for it: the plan's sessions of the period or the
    extra-conversation balance.
    """

    __tablename__ = "session_windows"
    __table_args__ = (
        Index("ix_session_windows_contact_open", "client_id", "contact_id", "expires_at"),
        Index("ix_session_windows_client_opened", "client_id", "opened_at"),
        # Deleting a contact or a conversation (a client's purge) checks its windows by
        # these: without them each deleted row would scan the whole table.
        Index("ix_session_windows_contact", "contact_id"),
        Index("ix_session_windows_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ConversationRead(db.Model):
    """How far one account read a conversation (its newest message id seen then).

    Written when the account opens the conversation, never while staff act as it."""

    __tablename__ = "conversation_reads"
    __table_args__ = (UniqueConstraint("account_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxPreference(db.Model):
    """A client user's choice of what announces a new message: a sound, a count in the title."""

    __tablename__ = "inbox_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    sound: Mapped[bool] = mapped_column(default=False)
    title_badge: Mapped[bool] = mapped_column(default=True)

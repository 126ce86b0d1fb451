"""A client's WhatsApp Business channel, the webhook's inbox of raw events, the approved
message templates synced from the account, and the sending of our messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow
from whatsapp.states import ParameterFormat, TemplateStatus


class WhatsAppChannel(db.Model):
    """One client's WhatsApp Business number (Cloud API). The access token and the app
    secret are kept sealed (``whatsapp.sealing``), never shown back."""

    __tablename__ = "whatsapp_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), unique=True)
    # Unique across the platform: the webhook finds the channel by it.
    phone_number_id: Mapped[str] = mapped_column(String(40), unique=True)
    business_account_id: Mapped[str] = mapped_column(String(40))
    access_token_sealed: Mapped[str] = mapped_column(Text)
    app_secret_sealed: Mapped[str] = mapped_column(Text)
    verify_token: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhatsAppEvent(db.Model):
    """The webhook's inbox: a verified delivery's raw body, for one channel, written
    before the 200 answer; applied once by a job (``processed_at``)."""

    __tablename__ = "whatsapp_events"
    __table_args__ = (Index("ix_whatsapp_events_pending", "processed_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    phone_number_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class WhatsAppTemplate(db.Model):
    """A message template of the client's account (synced from Meta, approved then): its body
    with ``{{1}}``, ``{{2}}``... placeholders (or named ones, ``{{first_name}}``), its
    header and buttons, filled in a form when it is sent."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("client_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(15))
    category: Mapped[str] = mapped_column(String(30), server_default="", default="")
    body: Mapped[str] = mapped_column(Text)
    parameters: Mapped[int] = mapped_column(server_default="0", default=0)  # the body's
    parameter_format: Mapped[str] = mapped_column(
        String(10), server_default=ParameterFormat.POSITIONAL.value, default=ParameterFormat.POSITIONAL
    )
    # A named template's body parameters in the order of its text, with Meta's examples:
    # [{"name": "first_name", "example": "Maria"}]; None for a positional one.
    named_params: Mapped[list | None] = mapped_column(JSON)
    # {"format": "TEXT" | "IMAGE" | "DOCUMENT" | "VIDEO", "text": ..., "parameters": 0 | 1}
    # (a named TEXT header's parameter also has its "name" and "example")
    header: Mapped[dict | None] = mapped_column(JSON)
    # [{"index": 0, "type": "URL" | "QUICK_REPLY" | "PHONE_NUMBER", "text": ..., "url": ...}]
    buttons: Mapped[list | None] = mapped_column(JSON)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Meta's id of the template, and its status (``TemplateStatus``) as of ``status_at``
    # (the sync's time or the status webhook's): only an approved one is offered and sent.
    meta_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(
        String(30), server_default=TemplateStatus.APPROVED.value, default=TemplateStatus.APPROVED
    )
    status_at: Mapped[datetime | None]


class WhatsAppSend(db.Model):
    """The sending of one of our messages through the channel: what to send (a template
    and its parameters, else the message's text), the tries so far and when the next
    one is due. The message's WhatsApp id (``messages.external_id``) says it was sent."""

    __tablename__ = "whatsapp_sends"
    __table_args__ = (Index("ix_whatsapp_sends_due", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    # A template message: the template's name and language as Meta knows them (kept here,
    # so a later sync that drops the template does not change what is being sent).
    template_name: Mapped[str | None] = mapped_column(String(512))
    template_language: Mapped[str | None] = mapped_column(String(15))
    params: Mapped[list] = mapped_column(JSON, default=list)
    # A named template's body parameter names, in the order of ``params``; else None.
    param_names: Mapped[list | None] = mapped_column(JSON)
    # The template's header and button components as Meta takes them; a media header's
    # parameter names its file only once uploaded (at each try, from the message's file).
    components: Mapped[list | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    # Set while a try is due (the first, or after a rate limit or a server error); None
    # once it was sent or failed for good.
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

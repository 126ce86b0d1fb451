"""Platform-level rows: resellers, their hosts, the audit log, and the mail ledger."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow


class Reseller(db.Model):
    """A reseller (revenda): the top tenant. Branding and settings live here."""

    __tablename__ = "resellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    support_email: Mapped[str | None] = mapped_column(String(254))
    logo_url: Mapped[str | None] = mapped_column(String(500))
    primary_color: Mapped[str] = mapped_column(String(7), server_default="#0d6efd")
    # Days a payment may be overdue before the client is suspended automatically.
    grace_days: Mapped[int] = mapped_column(server_default="5")
    require_staff_2fa: Mapped[bool] = mapped_column(server_default=true(), default=True)
    code_on_every_new_browser: Mapped[bool] = mapped_column(server_default=false(), default=False)
    impersonation_minutes: Mapped[int] = mapped_column(server_default="60")
    # The extra-conversation pack clients can buy through Stripe (0 price: not offered).
    extra_pack_conversations: Mapped[int] = mapped_column(server_default="100", default=100)
    extra_pack_price_cents: Mapped[int] = mapped_column(server_default="0", default=0)
    # Click-to-call integration: when set, the call button posts here instead of tel:.
    telephony_url: Mapped[str | None] = mapped_column(String(500))
    # Scheme, host and port of every link e-mailed for this reseller ("https://acme.com.br"):
    # never taken from a request, whose Host header the sender chooses.
    canonical_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Branding (issue 12), written only by reseller.branding. The logo and favicon bytes
    # are deferred: the row is read on every request, the images only by their route
    # (core.views.brand_asset), whose URL carries the version so it can be cached forever.
    logo_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(40))
    logo_version: Mapped[str | None] = mapped_column(String(16))
    favicon_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    favicon_type: Mapped[str | None] = mapped_column(String(40))
    favicon_version: Mapped[str | None] = mapped_column(String(16))
    # Contacts shown to clients (phones in E.164) and the name e-mails come from.
    support_phone: Mapped[str | None] = mapped_column(String(20))
    support_whatsapp: Mapped[str | None] = mapped_column(String(20))
    mail_sender_name: Mapped[str | None] = mapped_column(String(120))
    # How a client pays when online payment is not available (a Pix key, a bank account):
    # shown on the client's subscription page.
    payment_instructions: Mapped[str | None] = mapped_column(Text)
    # Changed by triggers whenever its plans, desks or ticket statuses are written
    # (migration 0037): a process keeps what pages read of them per token (core.kept).
    setup_token: Mapped[str | None] = mapped_column(String(16), default=lambda: secrets.token_hex(8))
    # Session limits, within the platform's maxima (auth.sessions).
    staff_idle_minutes: Mapped[int] = mapped_column(server_default="30", default=30)
    staff_session_hours: Mapped[int] = mapped_column(server_default="12", default=12)
    user_idle_days: Mapped[int] = mapped_column(server_default="14", default=14)
    user_session_days: Mapped[int] = mapped_column(server_default="30", default=30)
    # Hours a deleted client stays recoverable before its purge; empty: the platform's
    # CLIENT_PURGE_DELAY_HOURS. Never above core.config.MAX_PURGE_DELAY_HOURS.
    purge_delay_hours: Mapped[int | None]
    # An e-mail from an unknown sender creates its client (seed 003); off: it waits for staff.
    mail_creates_clients: Mapped[bool] = mapped_column(server_default=true(), default=True)
    # Months the audit log is kept (core.audit_retention; at least 6: Marco Civil, art. 15).
    audit_retention_months: Mapped[int] = mapped_column(server_default="12", default=12)

    hosts: Mapped[list[ResellerHost]] = relationship(back_populates="reseller", cascade="all, delete-orphan")


class ResellerHost(db.Model):
    """A host name (custom domain or subdomain) that serves one reseller."""

    __tablename__ = "reseller_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(253), unique=True)

    reseller: Mapped[Reseller] = relationship(back_populates="hosts")


class AuditEvent(db.Model):
    """Append-only record of who did what, acting as whom, when and from where.

    Each reseller's events form a hash chain (``core.audit_chain``): ``seq`` numbers them,
    ``digest`` covers the event, its seq and ``prev_digest`` (``digest_version`` says in
    which format; written by ``core.audit_link``). Personal data (ip, user_agent,
    actor_label, the text in details) enters ``digest`` only through
    ``personal_digest``, so scrubbing it after a purge leaves the chain verifiable.
    Rows older than migration 0032 have no ``seq``: they were written before the chain.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The page's order, newest first (read backwards) and its keyset (created_at, id).
        Index("ix_audit_events_reseller_created", "reseller_id", "created_at", "id"),
        Index("ix_audit_events_chain", "reseller_id", "seq", unique=True),
        Index("ix_audit_events_kind", "reseller_id", "actor_kind", "created_at", "id"),
        Index("ix_audit_events_action", "reseller_id", "action", "created_at", "id"),
        Index("ix_audit_events_client", "reseller_id", "client_id", "created_at", "id"),
        Index("ix_audit_events_target", "reseller_id", "object_type", "object_id", "created_at", "id"),
        Index("ix_audit_events_ip", "reseller_id", "ip", "created_at", "id"),
        Index(
            "ix_audit_events_acting_as",
            "reseller_id",
            "created_at",
            "id",
            postgresql_where=text("actor_account_id <> subject_account_id"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"))
    # No index of its own: every read of a client's events names the reseller too
    # (ix_audit_events_client; migration 0041 dropped ix_audit_events_client_id).
    client_id: Mapped[int | None]
    # The person who really acted (staff when impersonating) and the account acted as.
    actor_kind: Mapped[str] = mapped_column(String(20), server_default="system")
    actor_account_id: Mapped[int | None]
    subject_account_id: Mapped[int | None]
    # The API client that acted (issue 16's API), when one did.
    api_client_id: Mapped[int | None]
    actor_label: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The hash chain (core.audit_chain); empty on rows written before it.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_digest: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))
    personal_digest: Mapped[str | None] = mapped_column(String(64))
    # Random salt of personal_digest, cleared with the personal data it hides.
    personal_salt: Mapped[str | None] = mapped_column(String(32))
    # How ``digest`` was made (core.audit_chain): 1 before migration 0041, 2 since.
    digest_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class AuditChainHead(db.Model):
    """The last link of a reseller's audit chain, locked (by the UPDATE that moves it on)
    by each writer so two transactions never fork the chain: its ``seq`` and ``digest``
    are the last event's, ``prev_digest`` the one before (what that UPDATE returns as the
    new event's ``prev_digest``). ``reseller_id`` 0: the platform's own events (no
    reseller), hence no foreign key."""

    __tablename__ = "audit_chain_heads"

    reseller_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    digest: Mapped[str] = mapped_column(String(64), server_default="")
    prev_digest: Mapped[str] = mapped_column(String(64), server_default="")


class ThreadMessage(db.Model):
    """The Message-ID of each e-mail sent for a reseller (and of each received one that
    joined a thread), and the thread it belongs to.

    Readers: threading (a reply whose In-Reply-To or References names one of these is a
    reply to that ``thread``, e.g. ``ticket:42``), the References of the next mail of the
    thread, and bounces (a delivery report is believed only when it quotes a Message-ID
    we sent, so a forged bounce cannot silence an address). It holds no address and no
    text: nothing personal outlives a purge.
    """

    __tablename__ = "thread_messages"
    __table_args__ = (
        Index("ix_thread_messages_message_id", "message_id"),
        Index("ix_thread_messages_thread", "reseller_id", "thread", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(255))
    thread: Mapped[str | None] = mapped_column(String(80))
    # Received (a client's message on the thread) rather than sent by us.
    inbound: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # Keyed fingerprints of the addresses it was sent to (core.mail.recipient_key), not the
    # addresses: a bounce may declare dead only an address the mail really went to.
    recipient_keys: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UndeliverableAddress(db.Model):
    """An address a permanent bounce (5.x.x) declared dead, for one reseller: no mail of
    that reseller goes to it until staff clear it. The bounce's status and the remote
    server's words are kept so staff see why."""

    __tablename__ = "undeliverable_addresses"
    __table_args__ = (UniqueConstraint("reseller_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(12))
    diagnostic: Mapped[str | None] = mapped_column(String(500))
    bounced_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The inbound mail inbox: every message received, stored before the sender is answered.

:class:`InboundMessage` mirrors billing's ``stripe_events`` (the raw payload kept, a job
per row, a sweep for rows a lost job left behind), with the raw bytes kept in
``core.storage`` rather than in the row: a message may be 30 MB.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class InboundMessage(db.Model):
    """One received e-mail (webhook or SMTP), from its arrival to its outcome.

    Tenancy: a message arrives before anyone knows whose it is, so ``reseller_id`` is
    empty until processing routes it. The table is protected like every tenant table
    (``migrations.tenancy.protect``, by reseller): a reseller's scope sees only the rows
    routed to it, and a row without a reseller is seen by no reseller at all. Storing
    (the tenantless webhook view, the SMTP listener's command) and processing (the job,
    the sweep) read across resellers under a named bypass, ``mail-intake``
    (``core.scope.BYPASSES``), as the Stripe inbox does under ``stripe-inbox``. The
    routing itself is the tenancy decision: a desk address of reseller B never routes a
    message to reseller A (``intake.routing``).

    Idempotency: the same message may be stored twice (a provider's retry, a relay's
    double delivery, a replayed webhook). Processing claims ``dedupe_key`` (the
    Message-ID, or ``sha256:<digest>`` of the raw bytes when the message has none) on
    the first copy; the column is unique, so a second copy, even one processed at the
    same moment by another worker, cannot claim it and ends ``duplicate`` (its key stays
    empty, its Message-ID is kept).
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_messages_pending", "processed_at", "received_at"),
        # The rate limit per sender, and threading by a received Message-ID.
        Index("ix_inbound_messages_sender", "sender", "received_at"),
        Index("ix_inbound_messages_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The raw message in core.storage (``intake/<day>/<random>``), its size and digest.
    storage_key: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received_via: Mapped[str] = mapped_column(String(10))
    # The SMTP envelope (MAIL FROM, RCPT TO); a webhook may carry none.
    envelope_sender: Mapped[str | None] = mapped_column(String(320))
    envelope_recipients: Mapped[list] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(998))
    # The From address, lower-cased (the rate limit counts by it), and the subject as the
    # unknown senders queue shows it.
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(998), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(30))
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Known once processing routed it.
    reseller_id: Mapped[int | None] = mapped_column(
        ForeignKey("resellers.id", ondelete="CASCADE"), index=True
    )
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desks.id", ondelete="SET NULL"))
    # The client whose ticket it reached: its purge removes the row and the raw message
    # (reseller.purge_batches), which is kept outside the client's storage prefix.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # The timeline entry it became (a reply, or the ticket's creation): the staff download
    # the original message from there.
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_entries.id", ondelete="SET NULL"))

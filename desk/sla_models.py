"""What the SLA sweep has told people: one row per ticket, clock and event, so that no
event is notified twice (``desk.sla_sweep``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class TicketSlaNotice(db.Model):
    """An SLA event of a ticket (a clock became expiring or breached) that was notified.

    ``cycle`` tells the next-response clocks of a ticket apart (the n-th one opened by a
    client reply); the first-response and resolution clocks have one cycle, 0. The row
    is inserted before the e-mail is queued, in the same transaction, with ON CONFLICT
    DO NOTHING: whoever inserts it sends the e-mail, anyone else sends nothing.
    """

    __tablename__ = "ticket_sla_notices"
    __table_args__ = (
        UniqueConstraint("ticket_id", "clock", "event", "cycle"),
        # The purge's client_id batches.
        Index("ix_ticket_sla_notices_client", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(10))
    cycle: Mapped[int] = mapped_column(server_default="0", default=0)
    # When the clock crossed the threshold (naive UTC), and when the sweep saw it.
    occurred_at: Mapped[datetime]
    notified_at: Mapped[datetime] = mapped_column(default=utcnow)

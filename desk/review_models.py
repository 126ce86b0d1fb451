"""What a client says about a ticket through the portal (issue 15): its rating by the
requester, and the approvals asked of named client users with their votes.

Each row carries ``reseller_id`` and ``client_id`` and is protected by both (migration
0029): a client user's scope sees only its own client's rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from desk.states import ApprovalState


class TicketRating(db.Model):
    """The requester's rating of a finished ticket: 1-5 with a comment, once."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (
        UniqueConstraint("ticket_id"),
        Index("ix_ticket_ratings_client", "client_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, server_default="", default="")
    # desk.states.RatingSource: the portal, or the e-mailed link.
    source: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketApproval(db.Model):
    """An approval of a ticket asked of named client users, with its rule
    (desk.states.ApprovalRule: any one, all, or ``needed`` of them)."""

    __tablename__ = "ticket_approvals"
    __table_args__ = (
        Index("ix_ticket_approvals_ticket", "ticket_id", "id"),
        Index("ix_ticket_approvals_client", "client_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(10))
    # How many approvals the rule needs (1 for "any", every approver for "all").
    needed: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default=ApprovalState.PENDING)
    # Why it was asked (shown to the approvers).
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    requested_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    votes: Mapped[list[TicketApprovalVote]] = relationship(
        back_populates="approval", order_by="TicketApprovalVote.id", cascade="all, delete-orphan"
    )


class TicketApprovalVote(db.Model):
    """One approver of an approval and what they decided (empty: not yet)."""

    __tablename__ = "ticket_approval_votes"
    __table_args__ = (
        UniqueConstraint("approval_id", "account_id"),
        Index("ix_ticket_approval_votes_account", "account_id", "decision"),
        Index("ix_ticket_approval_votes_client", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    approval_id: Mapped[int] = mapped_column(ForeignKey("ticket_approvals.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # desk.states.VoteDecision, empty while undecided.
    decision: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, server_default="", default="")
    decided_at: Mapped[datetime | None]

    approval: Mapped[TicketApproval] = relationship(back_populates="votes")

"""Tickets and what hangs off them: the timeline, followers, attachments, and the
per-reseller counter that numbers them.

The queue (issue 13: a million tickets, page 1 of each filter and sort in 15 ms) reads
``tickets`` alone: the status kind, the SLA state and the times it sorts by are columns
of the ticket, and its indexes start with the reseller and end with ``id`` so that a page
is a walk down one index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from core.extensions import db
from core.timeutil import utcnow
from desk.models import Desk, TicketStatus
from desk.states import BLOCKING_KINDS, Priority, SlaState, StatusKind
from tenant.models import fold

# The queue's sorts, each the column of an index (reseller, ..., column, id).
QUEUE_SORTS = ("id", "last_activity_at", "created_at", "sla_next_event_at", "priority_rank")
# The queue's other sorts (desk.queue walks one desk and kind at a time): migration 0020.
WALK_SORTS = ("number", "updated_at", "first_response_due_at", "resolution_due_at")
# Filters walked as one more equality of the pair (desk, kind, value) in the default
# sort's order: an index (reseller, desk, kind, column, resolution_due_at, id) each
# (migration 0021), so a rare value is read from its own entries, not filtered out of
# every open ticket.
WALK_FILTERS = ("priority_rank", "sla_state", "assignee_account_id")
SUBJECT_SEARCH_LENGTH = 200
# Priorities in order, stored as a number beside the name so that a sort is an index walk.
PRIORITY_RANKS = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 4}


def _queue_indexes():
    """For each sort: all of the reseller's tickets, one desk's, and one kind's in a desk."""
    out = []
    for col in QUEUE_SORTS:
        suffix = "" if col == "id" else f"_{col}"
        cols = () if col == "id" else (col,)
        out.append(
            Index(f"ix_tickets_desk_kind{suffix}", "reseller_id", "desk_id", "status_kind", *cols, "id")
        )
        out.append(Index(f"ix_tickets_desk{suffix}", "reseller_id", "desk_id", *cols, "id"))
    # The default sort's walk carries the folded subject (migration 0039): a text search
    # walking it filters index entries, not table rows (4,773 buffers to 448 for a word
    # in one ticket of twelve on the bench's million).
    out.extend(
        Index(
            f"ix_tickets_desk_kind_{col}",
            "reseller_id",
            "desk_id",
            "status_kind",
            col,
            "id",
            postgresql_include=["subject_search"] if col == "resolution_due_at" else [],
        )
        for col in WALK_SORTS
    )
    out.extend(
        Index(
            f"ix_tickets_walk_{col}", "reseller_id", "desk_id", "status_kind", col, "resolution_due_at", "id"
        )
        for col in WALK_FILTERS
    )
    # Subject search (``q``): trigrams of the folded subject, searched with LIKE (which,
    # unlike ILIKE, is leakproof: PostgreSQL may read the index under row-level security).
    out.append(
        Index(
            "ix_tickets_subject_search_trgm",
            "subject_search",
            postgresql_using="gin",
            postgresql_ops={"subject_search": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql")
    )
    return tuple(out)


class TicketCounter(db.Model):
    """The last ticket number a reseller gave: read and raised under ``FOR UPDATE`` so two
    tickets never get the same number (never ``MAX(number) + 1``)."""

    __tablename__ = "ticket_counters"

    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), primary_key=True)
    last_number: Mapped[int] = mapped_column(server_default="0", default=0)


class Ticket(db.Model):
    """A client's ticket on a desk (``#number``, per reseller)."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("reseller_id", "number"),
        *_queue_indexes(),
        Index(
            "ix_tickets_assignee",
            "reseller_id",
            "assignee_account_id",
            "status_kind",
            "last_activity_at",
            "id",
        ),
        # A client's tickets by kind: inactivation and deletion counts, its page, its portal,
        # the desk-link removal check; and the purge's client_id batches.
        Index("ix_tickets_client", "client_id", "status_kind", "desk_id"),
        # The SLA sweep: tickets whose next SLA event (expiring, breached) is due.
        Index(
            "ix_tickets_sla_next_event",
            "sla_next_event_at",
            postgresql_where=text("sla_next_event_at IS NOT NULL"),
            sqlite_where=text("sla_next_event_at IS NOT NULL"),
        ),
        Index(
            "ix_tickets_merged_into",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
            sqlite_where=text("merged_into_id IS NOT NULL"),
        ),
        # The review sweep: resolved tickets waiting for the client's acceptance.
        Index(
            "ix_tickets_review_due",
            "review_due_at",
            postgresql_where=text("review_due_at IS NOT NULL"),
            sqlite_where=text("review_due_at IS NOT NULL"),
        ),
        Index(
            "ix_tickets_requester",
            "requester_account_id",
            postgresql_where=text("requester_account_id IS NOT NULL"),
            sqlite_where=text("requester_account_id IS NOT NULL"),
        ),
    )

    BLOCKING_KINDS = BLOCKING_KINDS
    PRIORITIES = tuple(Priority)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    number: Mapped[int]
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    # The client user who asked (empty: opened by staff for the client, or the user is gone).
    requester_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    # The subject lower-case and accent-free (tenant.models.fold): what ``q`` searches.
    subject_search: Mapped[str] = mapped_column(String(SUBJECT_SEARCH_LENGTH), server_default="", default="")
    description: Mapped[str] = mapped_column(Text, server_default="", default="")
    # Opened by e-mail: the message's HTML, sanitised (intake.html), inline images as cid:.
    description_html: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(
        String(10), server_default=Priority.NORMAL.value, default=Priority.NORMAL
    )
    priority_rank: Mapped[int] = mapped_column(server_default="2", default=PRIORITY_RANKS[Priority.NORMAL])
    status_id: Mapped[int] = mapped_column(ForeignKey("ticket_statuses.id"))
    # The status's kind, copied for the queues and the counts (kept by the ticket rules).
    status_kind: Mapped[str] = mapped_column(String(30), server_default=StatusKind.NEW.value)
    assignee_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Custom field values by the desk field's key, checked by desk.fields.
    field_values: Mapped[dict] = mapped_column(JSON, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The last reply, note or event: the queue's default sort.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_responded_at: Mapped[datetime | None]
    # The client's latest reply still waiting for staff (the next-response clock).
    awaiting_reply_since: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopened_count: Mapped[int] = mapped_column(server_default="0", default=0)
    # Waiting for the client's review (issue 15): accepted by itself at this time if
    # nobody accepts or reopens it first (empty: no review pending).
    review_due_at: Mapped[datetime | None]
    # SLA (computed by desk.sla from the ticket's history; naive UTC).
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    # When each clock becomes "expiring" (its share of the target used): shown per clock.
    first_response_expiring_at: Mapped[datetime | None]
    next_response_expiring_at: Mapped[datetime | None]
    resolution_expiring_at: Mapped[datetime | None]
    sla_paused_seconds: Mapped[int] = mapped_column(server_default="0", default=0)
    sla_state: Mapped[str] = mapped_column(String(10), server_default=SlaState.OK.value, default=SlaState.OK)
    # When the SLA state changes next (expiring, breached): what the sweep looks for.
    sla_next_event_at: Mapped[datetime | None]

    desk: Mapped[Desk] = relationship()
    status: Mapped[TicketStatus] = relationship()

    @validates("subject")
    def _fold_subject(self, _key, value):
        # Folding may lengthen ("…" is "..."): cut to the column's 200.
        self.subject_search = fold(value)[:SUBJECT_SEARCH_LENGTH]
        return value


class TicketEntry(db.Model):
    """One line of a ticket's timeline: a public reply, an internal note or an event
    (``event``: ``{"type": EventType, "before": ..., "after": ...}``)."""

    __tablename__ = "ticket_entries"
    __table_args__ = (
        Index("ix_ticket_entries_ticket", "ticket_id", "created_at", "id"),
        Index("ix_ticket_entries_client", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Who wrote it (empty: the system, or an account since removed).
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # The staff account logged in as the author ("log in as"), when it was.
    acting_as_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Written by no account but by the reseller's API client (issue 16): its name then.
    author_label: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str | None] = mapped_column(Text)
    # A reply by e-mail: its new part's HTML, sanitised (intake.html), inline images as cid:.
    body_html: Mapped[str | None] = mapped_column(Text)
    event: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketFollower(db.Model):
    """An account that receives a ticket's public replies."""

    __tablename__ = "ticket_followers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "account_id"),
        Index("ix_ticket_followers_client", "client_id", "id"),
        Index("ix_ticket_followers_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketAttachment(db.Model):
    """A file of a ticket, stored under ``storage_key`` by ``core.storage`` (the row is
    the only way to it: served by the app to whoever may see the ticket)."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (
        Index("ix_ticket_attachments_ticket", "ticket_id", "id"),
        Index("ix_ticket_attachments_client", "client_id", "id"),
        Index(
            "ix_ticket_attachments_entry",
            "entry_id",
            postgresql_where=text("entry_id IS NOT NULL"),
            sqlite_where=text("entry_id IS NOT NULL"),
        ),
        UniqueConstraint("storage_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_entries.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    # An e-mail's inline image: the Content-ID its HTML names it by (``cid:...``).
    content_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

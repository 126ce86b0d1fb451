"""Rows of the reseller panel itself: background exports, client deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow
from reseller.states import ExportKind, ExportStatus, PurgeStatus


class ExportJob(db.Model):
    """A large export running in the background (the client list, the audit log), with
    its progress."""

    __tablename__ = "export_jobs"

    STATUSES = tuple(ExportStatus)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    requested_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        String(20), server_default=ExportKind.CLIENTS.value, default=ExportKind.CLIENTS
    )
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(10), server_default="pt_BR")
    status: Mapped[str] = mapped_column(
        String(10), server_default=ExportStatus.QUEUED.value, default=ExportStatus.QUEUED
    )
    total_rows: Mapped[int] = mapped_column(server_default="0", default=0)
    done_rows: Mapped[int] = mapped_column(server_default="0", default=0)
    file_name: Mapped[str | None] = mapped_column(String(120))
    file_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0


LIVE_DELETION = "finished_at IS NULL AND cancelled_at IS NULL"


class ClientDeletion(db.Model):
    """A client's deletion: the purge deadline (swept from here, so a lost job is caught
    up) and, once purged, the tombstone that remains.

    The row outlives the client, so ``client_id`` is a plain number, not a foreign key.
    It holds ids, times and row counts only, never personal data (no names, e-mails or
    documents; an API client's name, a program's, is no person's). At most one live
    (neither cancelled nor finished) deletion exists per client.
    """

    __tablename__ = "client_deletions"
    __table_args__ = (
        Index(
            "uq_client_deletions_client_live",
            "client_id",
            unique=True,
            postgresql_where=text(LIVE_DELETION),
            sqlite_where=text(LIVE_DELETION),
        ),
        # The sweep's question: which purges are due and not finished?
        Index(
            "ix_client_deletions_due",
            "purge_due_at",
            postgresql_where=text(LIVE_DELETION),
            sqlite_where=text(LIVE_DELETION),
        ),
        Index("ix_client_deletions_reseller", "reseller_id", "requested_at"),
    )

    STATUSES = tuple(PurgeStatus)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int]
    requested_by_account_id: Mapped[int | None]
    # Who asked when no account did: the reseller's API client, by its name.
    requested_by_label: Mapped[str | None] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(
        String(10), server_default=PurgeStatus.PENDING.value, default=PurgeStatus.PENDING
    )
    started_at: Mapped[datetime | None]
    # Renewed by the purge after each batch: a purge whose heartbeat is old died.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by_account_id: Mapped[int | None]
    # What the warning listed when the deletion was confirmed, and what the purge removed.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    purged_rows: Mapped[dict] = mapped_column(JSON, default=dict)

    @property
    def cancellable(self) -> bool:
        return self.started_at is None and self.finished_at is None and self.cancelled_at is None


class ClientDeletionCode(db.Model):
    """The one-time code that confirms a client's deletion (an e-mailed code, or the
    staff member's authenticator app when enrolled: ``method`` says which).

    Bound to one staff account and one client; an e-mailed code is stored hashed;
    valid 10 minutes, 5 tries, single use (conditional UPDATEs, as for login codes).
    """

    __tablename__ = "client_deletion_codes"
    __table_args__ = (Index("ix_client_deletion_codes_account_client", "account_id", "client_id"),)

    EMAIL = "email"
    TOTP = "totp"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(5))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    sends: Mapped[int] = mapped_column(server_default="1", default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

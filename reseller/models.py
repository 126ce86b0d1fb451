"""Rows of the reseller panel itself: background exports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class ExportJob(db.Model):
    """A large client-list export running in the background, with its progress."""

    __tablename__ = "export_jobs"

    STATUSES = ("queued", "running", "done", "failed")

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    requested_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(10), server_default="pt_BR")
    status: Mapped[str] = mapped_column(String(10), server_default="queued", default="queued")
    total_rows: Mapped[int] = mapped_column(server_default="0", default=0)
    done_rows: Mapped[int] = mapped_column(server_default="0", default=0)
    file_name: Mapped[str | None] = mapped_column(String(120))
    file_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done_rows / self.total_rows) if self.total_rows else 0

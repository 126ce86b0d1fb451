"""Writing the filtered audit log to CSV (formula-safe) or JSON Lines, for the export job.

The rows are exactly those of the page with the same filters (``reseller.audit_log``),
newest first, streamed in batches. The file is downloadable by the staff member who
asked, for :data:`DOWNLOAD_MINUTES` after it is ready; the periodic audit sweep deletes
it after that (``reseller.audit_retention``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _

from core.audit_labels import action_label
from core.models import AuditEvent
from core.spreadsheets import csv_text, csv_writer
from core.timeutil import LOCAL_TZ, utcnow
from reseller.audit_log import AuditFilters, filtered
from reseller.models import ExportJob
from reseller.states import ExportKind, ExportStatus

DOWNLOAD_MINUTES = 10
BATCH = 2000
COLUMNS = (
    AuditEvent.id,
    AuditEvent.created_at,
    AuditEvent.actor_kind,
    AuditEvent.actor_account_id,
    AuditEvent.subject_account_id,
    AuditEvent.api_client_id,
    AuditEvent.actor_label,
    AuditEvent.action,
    AuditEvent.client_id,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.ip,
    AuditEvent.user_agent,
    AuditEvent.details,
)
FIELDS = tuple(column.key for column in COLUMNS)
MEDIA_TYPES = {
    ExportKind.AUDIT_CSV: "text/csv; charset=utf-8",
    ExportKind.AUDIT_JSONL: "application/x-ndjson",
}
SUFFIXES = {ExportKind.AUDIT_CSV: "csv", ExportKind.AUDIT_JSONL: "jsonl"}


def export_rows(session, reseller_id: int, filters: AuditFilters):
    """Stream the filtered events' columns, newest first (the page's order)."""
    stmt = (
        filtered(reseller_id, filters)
        .with_only_columns(*COLUMNS)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return session.execute(stmt.execution_options(stream_results=True, yield_per=BATCH))


def headers() -> list[str]:
    return [
        _("ID"),
        _("Date and time (Brasília)"),
        _("Actor"),
        _("Actor account"),
        _("Acting as account"),
        _("API client"),
        _("Actor e-mail"),
        _("Action"),
        _("Action code"),
        _("Client ID"),
        _("Target type"),
        _("Target ID"),
        _("IP"),
        _("Browser"),
        _("Details"),
    ]


def write(kind: str, target, rows: Iterable, *, progress: Callable[[int], None] | None = None) -> int:
    """Write ``rows`` to the text file ``target`` as ``kind``; returns how many."""
    writer = _csv_writer(target) if kind == ExportKind.AUDIT_CSV else None
    count = 0
    for row in rows:
        values = dict(zip(FIELDS, row, strict=True))
        if writer is not None:
            writer(values)
        else:
            values["created_at"] = values["created_at"].isoformat(timespec="microseconds") + "Z"
            target.write(json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(count)
    return count


def _csv_writer(target) -> Callable[[dict], None]:
    # The reader's convention (';' in Portuguese), as the other downloads.
    out = csv_writer(target)
    out.writerow(headers())

    def write_row(v: dict) -> None:
        local = v["created_at"].replace(tzinfo=UTC).astimezone(LOCAL_TZ)
        out.writerow(
            [
                v["id"],
                local.strftime("%d/%m/%Y %H:%M:%S"),
                v["actor_kind"],
                v["actor_account_id"],
                v["subject_account_id"],
                v["api_client_id"],
                csv_text(v["actor_label"] or ""),
                csv_text(str(action_label(v["action"]))),
                v["action"],
                v["client_id"],
                csv_text(v["object_type"] or ""),
                csv_text(v["object_id"] or ""),
                csv_text(v["ip"] or ""),
                csv_text(v["user_agent"] or ""),
                csv_text(json.dumps(v["details"] or {}, ensure_ascii=False, sort_keys=True)),
            ]
        )

    return write_row


def file_name(kind: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(LOCAL_TZ)).strftime("%Y-%m-%d-%H%M")
    prefix = _("audit")
    return f"{prefix}-{stamp}.{SUFFIXES[ExportKind(kind)]}"


def downloadable(job: ExportJob, now: datetime | None = None) -> bool:
    """Ready, and for :data:`DOWNLOAD_MINUTES` after it was."""
    return (
        job.status == ExportStatus.DONE
        and job.finished_at is not None
        and (now or utcnow()) < job.finished_at + timedelta(minutes=DOWNLOAD_MINUTES)
    )

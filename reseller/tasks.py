"""Every job target of the reseller package: the client-list and audit-log exports, the
purge of a deleted client and the periodic sweep that starts the purges that are due."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from core.extensions import db
from core.timeutil import utcnow
from reseller import audit_export, audit_retention
from reseller.audit_log import AuditFilters, filtered
from reseller.client_list import ClientFilters, count_clients
from reseller.exports import export_file_name, export_rows, write_xlsx
from reseller.models import ExportJob
from reseller.purge import due_deletions, enqueue_purge, purge_client
from reseller.states import AUDIT_EXPORT_KINDS, ExportStatus

log = logging.getLogger(__name__)


def run_client_export(export_id: int) -> None:
    """Job: write the export's XLSX file. Safe to run again (a done export is kept)."""
    job = db.session.get(ExportJob, export_id)
    if job is None or job.status == ExportStatus.DONE:
        return
    filters = ClientFilters.from_args(MultiDict(job.filters))
    job.status = ExportStatus.RUNNING
    job.total_rows = count_clients(job.reseller_id, filters)
    job.done_rows = 0
    db.session.commit()

    folder = Path(current_app.config["EXPORT_DIR"]) / str(job.reseller_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{job.id}-{secrets.token_hex(12)}.xlsx"
    partial = final.with_suffix(".part")

    progress = _progress(export_id)

    try:
        with force_locale(job.locale):
            rows = export_rows(db.session, job.reseller_id, filters)
            written = write_xlsx(partial, rows, progress=progress)
            name = export_file_name()
        os.replace(partial, final)
    except Exception as exc:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        _fail(export_id, exc)
        raise
    _done(export_id, written, final, name)


def run_audit_export(export_id: int) -> None:
    """Job: write an audit-log export (CSV or JSON Lines). Safe to run again."""
    job = db.session.get(ExportJob, export_id)
    if job is None or job.status == ExportStatus.DONE or job.kind not in AUDIT_EXPORT_KINDS:
        return
    filters = AuditFilters.from_args(MultiDict(job.filters))
    job.status = ExportStatus.RUNNING
    job.total_rows = db.session.scalar(
        select(func.count()).select_from(filtered(job.reseller_id, filters).subquery())
    )
    job.done_rows = 0
    kind = job.kind
    db.session.commit()

    folder = Path(current_app.config["EXPORT_DIR"]) / str(job.reseller_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"audit-{job.id}-{secrets.token_hex(12)}.{audit_export.SUFFIXES[kind]}"
    partial = final.with_suffix(".part")

    progress = _progress(export_id)

    try:
        with force_locale(job.locale), partial.open("w", encoding="utf-8", newline="") as out:
            written = audit_export.write(
                kind, out, audit_export.export_rows(db.session, job.reseller_id, filters), progress=progress
            )
            name = audit_export.file_name(kind)
        os.replace(partial, final)
    except Exception as exc:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        _fail(export_id, exc)
        raise
    _done(export_id, written, final, name)


def _progress(export_id: int):
    def progress(done: int) -> None:
        # Its own short transaction, so the page sees progress while rows stream.
        with db.engine.begin() as conn:
            conn.execute(update(ExportJob).where(ExportJob.id == export_id).values(done_rows=done))

    return progress


def _done(export_id: int, written: int, final: Path, name: str) -> None:
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == export_id)
        .values(
            status=ExportStatus.DONE,
            done_rows=written,
            total_rows=written,
            file_path=str(final),
            file_name=name,
            finished_at=utcnow(),
        )
    )
    db.session.commit()


def _fail(export_id: int, exc: Exception) -> None:
    job = db.session.get(ExportJob, export_id)
    job.status = ExportStatus.FAILED
    job.error = type(exc).__name__
    job.finished_at = utcnow()
    db.session.commit()
    log.exception("export %s failed", export_id)


def audit_retention_job() -> int:
    """Periodic job (bypass ``audit-retention``): each reseller's audit events older than
    its retention deleted, and the audit exports whose ten minutes are over."""
    report = audit_retention.sweep()
    return sum(report.deleted.values())


def purge_job(deletion_id: int) -> None:
    """Job (queue ``maintenance``, id ``purge-client-<client id>``)."""
    purge_client(deletion_id)


def sweep_job() -> int:
    """Periodic job: queue the purge of every deletion that is due and not running,
    whether or not its own job was ever queued (Redis down, worker killed)."""
    due = due_deletions()
    for deletion in due:
        enqueue_purge(deletion)
    db.session.commit()
    return len(due)

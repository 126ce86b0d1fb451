"""How long a reseller's audit log is kept, and the periodic sweep that enforces it.

Each reseller keeps ``resellers.audit_retention_months`` (at least
:data:`core.config.MIN_AUDIT_RETENTION_MONTHS`, Marco Civil art. 15) counted back from
today's local midnight. The sweep deletes older events in batches, each its own
transaction, from the start of the chain: by ``seq``, never leaving a hole in the middle
of the chain, so ``flask audit verify`` still walks it from the oldest remaining row (its
``prev_digest`` is the trusted anchor). The sweep also deletes audit exports whose ten
minutes are over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from core import audit
from core.config import MIN_AUDIT_RETENTION_MONTHS
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import add_months, today_local, utcnow
from reseller.audit_export import DOWNLOAD_MINUTES
from reseller.audit_log import local_midnight_utc
from reseller.models import ExportJob
from reseller.states import AUDIT_EXPORT_KINDS

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 3600
BATCH = 5000
# An event's created_at is taken when it is recorded, its seq when its transaction
# flushes: a row a little newer may have a lower seq. The rows of this window after the
# cut-off decide where the chain is cut, so no kept row's predecessor is deleted.
CLOCK_SKEW = timedelta(hours=1)


def cutoff(reseller: Reseller, today=None) -> datetime:
    """The oldest moment (naive UTC) whose events ``reseller`` still keeps."""
    months = max(MIN_AUDIT_RETENTION_MONTHS, reseller.audit_retention_months or 0)
    return local_midnight_utc(add_months(today or today_local(), -months))


def _first_kept_seq(reseller_id: int, since: datetime) -> int | None:
    mine = AuditEvent.reseller_id == reseller_id
    first = db.session.scalar(
        select(AuditEvent.created_at)
        .where(mine, AuditEvent.created_at >= since)
        .order_by(AuditEvent.created_at, AuditEvent.id)
        .limit(1)
    )
    if first is None:
        return None
    return db.session.scalar(
        select(func.min(AuditEvent.seq)).where(
            mine, AuditEvent.created_at >= since, AuditEvent.created_at < first + CLOCK_SKEW
        )
    )


@dataclass
class Report:
    deleted: dict[int, int] = field(default_factory=dict)
    exports_removed: int = 0


def purge_reseller(reseller: Reseller, *, today=None, batch: int = BATCH) -> int:
    """Delete ``reseller``'s events older than its retention, in batches; how many."""
    since = cutoff(reseller, today)
    keep_from = _first_kept_seq(reseller.id, since)
    mine = AuditEvent.reseller_id == reseller.id
    # Chained rows before the first kept one; rows from before the chain by their date.
    if keep_from is None:
        old = (AuditEvent.created_at < since,)
    else:
        old = (AuditEvent.seq < keep_from,)
    total = 0
    for condition in (old, (AuditEvent.seq.is_(None), AuditEvent.created_at < since)):
        while True:
            ids = db.session.scalars(
                select(AuditEvent.id)
                .where(mine, *condition)
                .order_by(AuditEvent.seq, AuditEvent.id)
                .limit(batch)
            ).all()
            if not ids:
                break
            total += db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids))).rowcount or 0
            db.session.commit()
    if total:
        audit.record(
            "audit.purged",
            reseller,
            reseller_id=reseller.id,
            details={
                "deleted": total,
                "before": since.isoformat(),
                "months": reseller.audit_retention_months,
            },
        )
        db.session.commit()
    return total


def remove_expired_exports(now: datetime | None = None) -> int:
    """Delete the files of audit exports whose download time is over."""
    limit = (now or utcnow()) - timedelta(minutes=DOWNLOAD_MINUTES)
    expired = db.session.execute(
        select(ExportJob.id, ExportJob.file_path).where(
            ExportJob.kind.in_(AUDIT_EXPORT_KINDS),
            ExportJob.file_path.is_not(None),
            ExportJob.finished_at < limit,
        )
    ).all()
    for job_id, path in expired:
        Path(path).unlink(missing_ok=True)
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(file_path=None))
    db.session.commit()
    return len(expired)


def sweep(*, today=None, now: datetime | None = None) -> Report:
    """Every reseller's retention, then the expired export files."""
    report = Report()
    for reseller_id in db.session.scalars(select(Reseller.id).order_by(Reseller.id)).all():
        reseller = db.session.get(Reseller, reseller_id)
        deleted = purge_reseller(reseller, today=today)
        if deleted:
            report.deleted[reseller_id] = deleted
            log.info("audit retention: %d events of reseller %d deleted", deleted, reseller_id)
    report.exports_removed = remove_expired_exports(now)
    return report

"""The purge of a deleted client: one run at a time (a lease renewed by every batch, so a
dead worker's run is taken over), the purges that are due, and queueing one.

The deadline lives in ``client_deletions`` and a periodic sweep (``reseller.tasks``)
starts the purges that are due, so a lost job or a dead worker only delays one. Running
a purge again after a crash at any point finishes the work; running it twice is harmless.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from core import audit, jobs
from core.extensions import db
from core.timeutil import utcnow
from reseller.models import ClientDeletion
from reseller.purge_batches import BatchLimitReached, BatchPurge, PurgeReport
from reseller.states import PurgeStatus
from tenant.models import Client

log = logging.getLogger(__name__)

# A purge whose heartbeat is older than this died (worker killed): it may be taken over.
PURGE_LEASE = timedelta(minutes=5)
PURGE_JOB_TIMEOUT = 3600
SWEEP_EVERY_SECONDS = 600


def enqueue_purge(deletion: ClientDeletion, delay: timedelta | None = None) -> None:
    """Queue the purge job of ``deletion`` (when the caller's transaction commits)."""
    jobs.enqueue(
        "reseller.tasks.purge_job",
        deletion.id,
        queue="maintenance",
        job_id=f"purge-client-{deletion.client_id}",
        timeout=PURGE_JOB_TIMEOUT,
        retries=3,
        delay=delay if delay and delay > timedelta(0) else None,
    )


def _claim(deletion_id: int) -> ClientDeletion | None:
    """Take the purge for this run: due, not cancelled, not finished, and not held by a
    live run (a dead run's lease expires). One conditional UPDATE, so of two workers
    one wins; and a cancellation, itself conditional on ``started_at``, loses or wins
    against it as a whole."""
    now = utcnow()
    first = (
        db.session.scalar(select(ClientDeletion.started_at).where(ClientDeletion.id == deletion_id)) is None
    )
    won = db.session.execute(
        update(ClientDeletion)
        .where(
            ClientDeletion.id == deletion_id,
            ClientDeletion.cancelled_at.is_(None),
            ClientDeletion.finished_at.is_(None),
            ClientDeletion.purge_due_at <= now,
            or_(ClientDeletion.heartbeat_at.is_(None), ClientDeletion.heartbeat_at < now - PURGE_LEASE),
        )
        .values(
            started_at=func.coalesce(ClientDeletion.started_at, now),
            heartbeat_at=now,
            status=PurgeStatus.PURGING,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return None
    deletion = db.session.get(ClientDeletion, deletion_id)
    db.session.refresh(deletion)
    live = db.session.scalar(
        select(Client.id).where(Client.id == deletion.client_id, Client.deleted_at.is_(None))
    )
    if live is not None:
        # Never purge a client that is not deleted (defence in depth: cancelling clears
        # deleted_at only together with cancelled_at).
        db.session.rollback()
        log.error("purge %s refused: client %s is not deleted", deletion_id, deletion.client_id)
        return None
    if first:
        audit.record(
            "client.purge_started",
            deletion,
            reseller_id=deletion.reseller_id,
            client_id=deletion.client_id,
            details={"deletion_id": deletion.id},
        )
    db.session.commit()
    return deletion


def _release(deletion_id: int) -> None:
    """Let the next run take over at once (this one stopped or failed, but is not dead)."""
    db.session.rollback()
    db.session.execute(
        update(ClientDeletion)
        .where(ClientDeletion.id == deletion_id, ClientDeletion.finished_at.is_(None))
        .values(heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def purge_client(
    deletion_id: int, *, batch_size: int | None = None, max_batches: int | None = None
) -> PurgeReport | None:
    """Remove every row and file of a deleted client, in batches; keep the tombstone.

    Returns ``None`` when there is nothing to do now (not due yet, cancelled, finished,
    or another run holds it). ``max_batches`` stops the run early (tests, benchmarks);
    a later run carries on where it stopped.
    """
    started = time.perf_counter()
    deletion = _claim(deletion_id)
    if deletion is None:
        return None
    purge = BatchPurge(deletion, batch_size or current_app.config["CLIENT_PURGE_BATCH"], max_batches)
    try:
        purge.run()
    except BatchLimitReached:
        _release(deletion_id)
        purge.report.seconds = time.perf_counter() - started
        return purge.report
    except Exception:
        _release(deletion_id)
        raise
    deletion = db.session.get(ClientDeletion, deletion_id)
    deletion.status = PurgeStatus.PURGED
    deletion.finished_at = utcnow()
    deletion.heartbeat_at = None
    audit.record(
        "client.purged",
        deletion,
        reseller_id=deletion.reseller_id,
        client_id=deletion.client_id,
        details={"deletion_id": deletion.id, "rows": dict(deletion.purged_rows or {})},
    )
    db.session.commit()
    purge.report.finished = True
    purge.report.seconds = time.perf_counter() - started
    log.info(
        "client %s purged: %s rows in %s batches, %.1f s",
        deletion.client_id,
        purge.report.rows,
        purge.report.batches,
        purge.report.seconds,
    )
    return purge.report


def due_deletions() -> list[ClientDeletion]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(ClientDeletion)
            .where(
                ClientDeletion.finished_at.is_(None),
                ClientDeletion.cancelled_at.is_(None),
                ClientDeletion.purge_due_at <= now,
                or_(ClientDeletion.heartbeat_at.is_(None), ClientDeletion.heartbeat_at < now - PURGE_LEASE),
            )
            .order_by(ClientDeletion.purge_due_at)
        )
    )

"""Applying one row of an inbox table once (billing's Stripe events, intake's e-mails).

An inbox row is stored before its sender is answered and applied later by a job or a
sweep. :func:`apply_once` locks the row (PostgreSQL: ``FOR UPDATE``, optionally
``SKIP LOCKED``), leaves it if it is gone or already applied, runs the work, and marks
it (``processed_at``, ``outcome``, ``attempts``) in the same commit. A failure rolls the
work back, counts the attempt with its error, and raises again (the job's retry, the
sweep's log). The model needs ``id``, ``processed_at``, ``outcome``, ``attempts`` and
``last_error``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update

from core.extensions import db
from core.timeutil import utcnow

MISSING_OR_BUSY = "missing or busy"


def apply_once(
    model, row_id: int, work: Callable[[object], str], *, already: str, skip_locked: bool = False
) -> str:
    """``work(row)``'s outcome, recorded on the row; ``already`` when it was applied
    before, :data:`MISSING_OR_BUSY` when it is gone (or, with ``skip_locked``, being
    applied by another worker right now)."""
    stmt = select(model).where(model.id == row_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    row = db.session.scalar(stmt)
    if row is None:
        db.session.rollback()
        return MISSING_OR_BUSY
    if row.processed_at is not None:
        db.session.rollback()
        return already
    return _apply(model, row, work)


class RowFailed(Exception):
    """:func:`apply_next`'s work failed on row ``row_id`` (rolled back, the attempt
    counted with its error); the cause is chained."""

    def __init__(self, row_id: int) -> None:
        super().__init__(f"row {row_id} failed")
        self.row_id = row_id


def apply_next(model, criteria, work: Callable[[object], str]) -> tuple[int, str] | None:
    """Apply the oldest row (by id) not applied yet that matches ``criteria`` and that no
    other worker holds: (its id, ``work(row)``'s outcome), or None when there is none.
    PostgreSQL only (``FOR UPDATE SKIP LOCKED``: concurrent workers each take their own
    row). A failure is recorded as :func:`apply_once` records it and raised as
    :class:`RowFailed`."""
    row = db.session.scalar(
        select(model)
        .where(model.processed_at.is_(None), *criteria)
        .order_by(model.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        db.session.commit()  # it only read: a COMMIT keeps the connection's prepared statements
        return None
    row_id = row.id
    try:
        return row_id, _apply(model, row, work)
    except Exception as exc:
        raise RowFailed(row_id) from exc


def _apply(model, row, work: Callable[[object], str]) -> str:
    row_id = row.id
    try:
        outcome = work(row)
    except Exception as exc:
        db.session.rollback()
        db.session.execute(
            update(model)
            .where(model.id == row_id)
            .values(attempts=model.attempts + 1, last_error=str(exc)[:500])
        )
        db.session.commit()
        raise
    row.processed_at = utcnow()
    row.outcome = outcome
    row.attempts = (row.attempts or 0) + 1
    db.session.commit()
    return outcome

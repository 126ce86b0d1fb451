"""Processing the stored messages in bulk: a job processes its own message, then every
other stored message no job has tried yet, so that under a burst one job serves many
messages and RQ's per-job cost (a few milliseconds of Redis round trips on each side)
is paid once, not per message.

- ``intake.inbox.store`` queues the processing job coalesced (``DRAIN_KEY``): while one
  waits, messages stored meanwhile queue none; the job releases the flag before it reads
  its work, and reads once more after ``core.jobs.UNIQUE_LOCAL_WINDOW`` (as the Stripe
  inbox's drain does), so a message is never left without a job coming for it.
- Each message is processed in its own transaction (``core.inbox_rows.apply_next``:
  the oldest untried message that no other worker holds, ``FOR UPDATE SKIP LOCKED``),
  so two workers drain side by side and one failure loses nothing of the others.
- A message that fails is recorded as before (attempts, last error: the row says why)
  and is left to a job of its own, queued ``RETRY_AFTER`` later with ``RETRIES``
  retries: the four tries over a minute and a half a message's job had, then the
  sweep's. A drain never takes it again (it takes only messages never tried).
- The acknowledgement of a ticket it opens is delivered by the job itself right after
  that message's commit (``core.held_jobs``), not by a job of its own; one that fails
  is queued as its delivery job, with its retries.
- A drain stops after ``MAX_MESSAGES`` messages or ``MAX_SECONDS`` (far within the
  job's timeout) and queues its continuation.

Only on PostgreSQL: SQLite has no ``SKIP LOCKED``, so there a job processes its own
message alone, as before (the demo's two job threads must not take the same message).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from core import jobs
from core.extensions import db
from core.held_jobs import run_held, run_here
from core.inbox_rows import RowFailed
from core.mail import DELIVER
from intake import processing
from intake.inbox import DRAIN_KEY, PROCESS_JOB

log = logging.getLogger(__name__)

DRAIN_JOB = "intake.tasks.drain_inbox"
MAX_MESSAGES = 500
MAX_SECONDS = 60
RETRY_AFTER = timedelta(seconds=10)
RETRIES = 2


def drains() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def process_and_drain(message_id: int) -> str:
    """The processing job: its own message (its failure is raised at the end, so that
    the job is retried), then the drain. Returns its own message's outcome."""
    with run_here(DELIVER):
        if not drains():
            outcome = processing.process(message_id)
            run_held()
            return outcome
        released_at = jobs.release_unique(DRAIN_KEY)
        try:
            # Another worker's drain may hold it right now: then it is that drain's.
            outcome = processing.process(message_id, skip_locked=True)
        finally:
            run_held()
            _drain(released_at)
        return outcome


def drain() -> int:
    """The continuation job: drain; how many messages were processed."""
    with run_here(DELIVER):
        return _drain(jobs.release_unique(DRAIN_KEY)) if drains() else 0


def _drain(released_at: float | None) -> int:
    deadline = time.monotonic() + MAX_SECONDS
    done = _pass(deadline, MAX_MESSAGES)
    if done < MAX_MESSAGES and time.monotonic() < deadline:
        jobs.wait_for_final_pass(released_at)
        done += _pass(deadline, MAX_MESSAGES - done)
    return done


def _pass(deadline: float, budget: int) -> int:
    """Process untried messages until none is left; at the budget or the deadline, queue
    the continuation. How many were taken (failures included)."""
    taken, failed = 0, set()
    while True:
        if taken >= budget or time.monotonic() >= deadline:
            jobs.enqueue_committed(DRAIN_JOB, queue="mail", unique_key=DRAIN_KEY)
            return taken
        try:
            found = processing.process_next()
        except RowFailed as failure:
            log.exception("inbound message %s failed: retried by a job of its own", failure.row_id)
            if failure.row_id in failed:  # not even its failure could be recorded: stop
                return taken
            failed.add(failure.row_id)
            _retry_later(failure.row_id)
            taken += 1
            continue
        run_held()
        if found is None:
            return taken
        taken += 1


def _retry_later(row_id: int) -> None:
    jobs.enqueue(PROCESS_JOB, row_id, queue="mail", delay=RETRY_AFTER, retries=RETRIES)
    db.session.commit()

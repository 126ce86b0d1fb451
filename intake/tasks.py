"""Every intake job target (RQ paths ``intake.tasks.*``)."""

from __future__ import annotations

import logging

from core import jobs
from intake import draining, inbox, processing

log = logging.getLogger(__name__)


@jobs.runs_under(inbox.BYPASS)
def process_message(message_id: int) -> str:
    """Queued by :func:`intake.inbox.store` once the row is committed (coalesced): route
    the message and open its ticket or add its reply (:func:`intake.processing.process`),
    then every other message stored and not tried yet (:mod:`intake.draining`). Also a
    failed message's retry, and the staff's "process again". Its row belongs to no
    reseller yet: it runs under the intake's bypass."""
    return draining.process_and_drain(message_id)


@jobs.runs_under(inbox.BYPASS)
def drain_inbox() -> int:
    """Queued by a drain that stopped at its bounds: process the messages not tried yet."""
    return draining.drain()


@jobs.runs_under(inbox.BYPASS)
def sweep_inbox() -> int:
    """Periodic: process stored messages a lost job left behind (older than two minutes)."""
    done = 0
    for row_id in inbox.pending():
        try:
            processing.process(row_id, skip_locked=True)
            done += 1
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("inbound message %s failed in the sweep", row_id)
    return done


@jobs.runs_under(inbox.BYPASS)
def expire_unrouted() -> int:
    """Periodic (daily): remove the messages of no reseller after their retention."""
    return inbox.expire_unrouted()

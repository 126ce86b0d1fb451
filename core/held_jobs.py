"""Jobs a job runs itself, right after the commit that queued them.

A job that commits many small transactions, each queueing a short follow-up job (the
mail intake: one acknowledgement for each ticket it opens), would pay the queue's cost
per follow-up: RQ's bookkeeping for a job is a few milliseconds, more than writing an
e-mail to the outbox. Within :func:`run_here` such follow-ups are held in the process
instead of being sent to Redis, and :func:`run_held` runs them after each commit.

What the queue guarantees still holds: a follow-up is held only once the transaction
that queued it committed (a rolled-back one drops it, as ``core.jobs`` does), it runs in
the tenancy scope it was queued in, and one that fails, or is still held when the block
ends, is queued as usual, with its retries.
"""

from __future__ import annotations

import contextlib
import logging

from flask import current_app

from core.jobs import HELD, call, dispatch
from core.scope import Scope, entered

log = logging.getLogger(__name__)


@contextlib.contextmanager
def run_here(*funcs: str):
    """Within the block, jobs of ``funcs`` (dotted paths) a commit would queue wait in
    this process for :func:`run_held`."""
    held: list = []
    token = HELD.set((funcs, held))
    try:
        yield
    finally:
        HELD.reset(token)
        app = current_app._get_current_object()
        for spec in held:  # never lost: the queue takes what was not run here
            dispatch(app, spec)


def run_held() -> int:
    """Run the jobs held since the last call; how many ran here. One that fails is
    queued as a job after all (its retries apply)."""
    _funcs, held = HELD.get()
    ran = 0
    while held:
        spec = held.pop(0)
        try:
            with entered(Scope.decode(spec.scope)):
                call(spec.func, *spec.args)
            ran += 1
        except Exception:  # noqa: BLE001 - the queue retries it
            log.warning("job %s failed in process: queued instead", spec.func, exc_info=True)
            dispatch(current_app._get_current_object(), spec)
    return ran

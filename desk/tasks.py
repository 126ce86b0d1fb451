"""Job targets of the desk package (what ``core.jobs`` runs)."""

from __future__ import annotations

from desk import review, sla_batch, sla_state, sla_sweep


def recompute_policy(policy_id: int) -> int:
    """A policy's targets changed: its unfinished tickets' deadlines again, from their
    history (in committed batches); how many."""
    return sla_state.recompute_for_policy(policy_id, prepare=sla_batch.preload)


def sweep_sla() -> int:
    """Periodic job (every minute, bypass ``sla-sweep``): the tickets whose SLA event is
    due refreshed, and their new events e-mailed once (``desk.sla_sweep``); how many."""
    return sla_sweep.sweep()


def accept_due_reviews() -> int:
    """Periodic job (every five minutes, bypass ``review-sweep``): the tickets whose
    client review time passed accepted by themselves (``desk.review``); how many."""
    return review.accept_due()

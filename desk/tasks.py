"""Job targets of the desk package (what ``core.jobs`` runs)."""

from __future__ import annotations

from desk import sla_state


def recompute_policy(policy_id: int) -> int:
    """A policy's targets changed: its unfinished tickets' deadlines again, from their
    history (in committed batches); how many."""
    return sla_state.recompute_for_policy(policy_id)

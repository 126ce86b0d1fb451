"""The states of the desk package. Bare state strings belong here and nowhere else."""

from __future__ import annotations

from enum import StrEnum


class SlaState(StrEnum):
    """Where one SLA clock (first response, next response, resolution) stands."""

    NOT_APPLICABLE = "not_applicable"  # no target, or the clock has not started
    PENDING = "pending"
    EXPIRING = "expiring"  # the configured share of the target is used up
    BREACHED = "breached"
    MET = "met"

"""STUB (helper "tickets"): the SLA glue of helper "slaglue" replaces this module at merge.

``refresh(ticket)`` recomputes and stores the ticket's three due columns, its paused
seconds, its SLA state and its next SLA event from its history. The ticket rules call it
after every change that matters to the SLA; until the real module lands it does nothing.
"""

from __future__ import annotations


def refresh(ticket) -> None:
    """Recompute the ticket's SLA columns (stub: nothing yet)."""

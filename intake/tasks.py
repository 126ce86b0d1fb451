"""Every intake job target (RQ paths ``intake.tasks.*``)."""

from __future__ import annotations

from core import jobs
from intake import inbox


@jobs.runs_under(inbox.BYPASS)
def process_message(message_id: int) -> None:
    """Queued by :func:`intake.inbox.store` once the row is committed. Processing (route,
    open a ticket or add a reply) comes in the next change; until then the row waits."""
    return None

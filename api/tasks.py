"""Job targets of the api package (what ``core.jobs`` runs)."""

from __future__ import annotations

from api.idempotency import forget_expired
from core.extensions import db

SWEEP_EVERY_SECONDS = 3600


def forget_expired_responses() -> int:
    """Periodic job (hourly, bypass ``api-idempotency``): the answers kept for an
    ``Idempotency-Key`` past their lifetime (24 hours, a login link's 60 seconds) removed
    for every API client, not only when their key comes back; how many."""
    removed = forget_expired()
    db.session.commit()
    return removed

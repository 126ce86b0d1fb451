"""Job aliases for one release: jobs already queued in Redis name ``billing.webhooks.drain``,
and the periodic sweep keeps its registered name ``billing.webhooks.sweep_job``. The code
lives in :mod:`billing.tasks` (and :mod:`billing.stripe`)."""

from billing.tasks import drain_stripe_inbox as drain  # alias for one release
from billing.tasks import sweep_stripe_inbox as sweep_job  # alias for one release

__all__ = ["drain", "sweep_job"]

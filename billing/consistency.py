"""Job alias for one release: the periodic job keeps its registered name
``billing.consistency.check_summaries``; the code lives in :mod:`billing.tasks`."""

from billing.tasks import check_summaries  # alias for one release

__all__ = ["check_summaries"]

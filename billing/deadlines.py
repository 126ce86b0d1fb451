"""Job alias for one release: the periodic job keeps its registered name
``billing.deadlines.sweep_deadlines``; the code lives in :mod:`billing.tasks`."""

from billing.tasks import sweep_deadlines  # alias for one release

__all__ = ["sweep_deadlines"]

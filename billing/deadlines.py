"""Old path of the periodic job ``billing.deadlines.sweep_deadlines`` (until the next release)."""

from billing.tasks import sweep_deadlines

__all__ = ["sweep_deadlines"]

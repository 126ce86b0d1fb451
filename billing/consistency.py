"""Old path of the periodic job ``billing.consistency.check_summaries`` (until the next release)."""

from billing.tasks import check_summaries

__all__ = ["check_summaries"]

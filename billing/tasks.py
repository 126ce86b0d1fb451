"""Every billing job target (RQ paths ``billing.tasks.*``). The periodic registrations
keep their previous names (``billing.webhooks.sweep_job``, ``billing.deadlines.sweep_deadlines``,
``billing.consistency.check_summaries``), one-line aliases of these."""

from __future__ import annotations

from billing.renewals import sweep_deadlines
from billing.stripe import inbox
from billing.summary import check_summaries
from core import jobs

__all__ = ["check_summaries", "drain_stripe_inbox", "sweep_deadlines", "sweep_stripe_inbox"]


@jobs.runs_under("stripe-inbox")
def drain_stripe_inbox() -> int:
    """Queued by the webhook intake (coalesced): apply every stored event not applied yet.
    Its events name their client, any reseller's: it runs under its own bypass, not the
    webhook view's."""
    return inbox.drain()


def sweep_stripe_inbox() -> int:
    """Periodic: apply inbox rows a lost job left behind (older than two minutes)."""
    return inbox.sweep()

"""Old path (until the next release): jobs already queued name ``billing.webhooks.drain``
and the periodic sweep is registered as ``billing.webhooks.sweep_job``. The code lives
in :mod:`billing.stripe` and :mod:`billing.tasks`."""

from billing.stripe.handlers import HANDLERS
from billing.stripe.inbox import sweep
from billing.stripe.intake import DRAIN_KEY, store, well_formed
from billing.tasks import drain_stripe_inbox as drain
from billing.tasks import sweep_stripe_inbox as sweep_job

__all__ = ["DRAIN_KEY", "HANDLERS", "drain", "store", "sweep", "sweep_job", "well_formed"]

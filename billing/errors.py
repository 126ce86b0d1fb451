"""The one error billing rules raise for a request they refuse."""

from __future__ import annotations


class BillingRejected(ValueError):
    """Nothing was changed; the message says why."""

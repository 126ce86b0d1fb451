"""Temporary re-export shim (issue 11): its rules now live in :mod:`billing.summary`,
:mod:`billing.suspension`, :mod:`billing.balance`, :mod:`billing.invoices` and
:mod:`billing.errors`. Only reseller/views/billing.py still imports it; remove once it
imports those modules."""

from billing.balance import add_extra_pack
from billing.errors import BillingRejected
from billing.invoices import MANUAL_METHODS, record_manual_payment
from billing.summary import current_subscription, refresh_client_summary
from billing.suspension import lift_suspension, manual_lift, manual_suspend, suspend

__all__ = [
    "MANUAL_METHODS",
    "BillingRejected",
    "add_extra_pack",
    "current_subscription",
    "lift_suspension",
    "manual_lift",
    "manual_suspend",
    "record_manual_payment",
    "refresh_client_summary",
    "suspend",
]

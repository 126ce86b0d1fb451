"""Temporary re-export shim (issue 11): now :mod:`billing.stripe.gateway`. Only
reseller/views/billing.py still imports it; remove once it imports the new path."""

from billing.stripe.gateway import (
    CHECKOUT_METHODS,
    StripeUnavailable,
    cancel_subscription,
    create_checkout,
    ensure_customer,
    http_client,
    is_configured,
    stripe_client,
)

__all__ = [
    "CHECKOUT_METHODS",
    "StripeUnavailable",
    "cancel_subscription",
    "create_checkout",
    "ensure_customer",
    "http_client",
    "is_configured",
    "stripe_client",
]

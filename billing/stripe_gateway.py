"""Old path (until the other packages follow issue 11): now :mod:`billing.stripe.gateway`."""

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

"""Calls out to Stripe, through the stripe library only.

Every call goes through :func:`stripe_client`, built from ``STRIPE_API_KEY``, whose
socket is :func:`http_client`: the one place that chooses how Stripe is reached. Tests
(and nothing else) put their own ``stripe.HTTPClient`` in
``app.extensions["stripe_http_client"]`` (a guard that fails any call, or a fake of
Stripe's servers): the library still builds and parses every request, only the socket
is replaced. Calls that create something carry an
idempotency key, so a retried request (double click, job retried) never makes two.
"""

from __future__ import annotations

import logging

import stripe
from flask import current_app
from flask_babel import gettext as _

from core.extensions import db

log = logging.getLogger(__name__)

# The methods a client may choose on our page; each Checkout offers exactly one.
CHECKOUT_METHODS = ("card", "boleto", "pix")


class StripeUnavailable(RuntimeError):
    """Stripe could not be reached or refused; the message is safe to show."""


def is_configured() -> bool:
    return bool(current_app.config.get("STRIPE_API_KEY"))


def stripe_client() -> stripe.StripeClient:
    key = current_app.config.get("STRIPE_API_KEY")
    if not key:
        raise StripeUnavailable(_("Online payments are not set up yet. Contact your provider."))
    return stripe.StripeClient(key, http_client=http_client(), max_network_retries=2)


def http_client() -> stripe.HTTPClient:
    """The HTTP client every Stripe call uses: the app's own when one is set (tests),
    else the library's default, made once per app."""
    client = current_app.extensions.get("stripe_http_client")
    if client is None:
        client = current_app.extensions["stripe_http_client"] = stripe.new_default_http_client()
    return client


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        log.warning("Stripe refused a call: %s", exc)
        raise StripeUnavailable(_("The payment provider did not answer. Try again in a moment.")) from exc


def ensure_customer(client) -> str:
    """The client's Stripe customer, created once (the idempotency key keeps two
    concurrent first checkouts from making two customers)."""
    if client.stripe_customer_id:
        return client.stripe_customer_id
    sc = stripe_client()
    customer = _call(
        sc.v1.customers.create,
        params={
            "name": client.legal_name,
            "email": client.email,
            "metadata": {"client_id": str(client.id), "reseller_id": str(client.reseller_id)},
        },
        options={"idempotency_key": f"customer-client-{client.id}"},
    )
    client.stripe_customer_id = customer.id
    db.session.flush()
    return customer.id


def create_checkout(
    client,
    *,
    method: str,
    amount_cents: int,
    description: str,
    metadata: dict,
    idempotency_key: str,
    success_url: str,
    cancel_url: str,
):
    """A one-off Stripe Checkout in BRL for ``amount_cents`` paid with ``method``."""
    if method not in CHECKOUT_METHODS:
        raise StripeUnavailable(_("Choose card, boleto or PIX."))
    customer_id = ensure_customer(client)
    metadata = {key: str(value) for key, value in metadata.items()}
    params = {
        "mode": "payment",
        "customer": customer_id,
        "client_reference_id": str(client.id),
        "payment_method_types": [method],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "brl",
                    "unit_amount": amount_cents,
                    "product_data": {"name": description[:250]},
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": "pt-BR",
    }
    if method == "boleto":
        params["payment_method_options"] = {"boleto": {"expires_after_days": 3}}
    if method == "pix":
        params["payment_method_options"] = {"pix": {"expires_after_seconds": 86400}}
    return _call(
        stripe_client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def cancel_subscription(stripe_subscription_id: str, *, at_period_end: bool) -> None:
    """Cancel a subscription that lives in Stripe, now or at the end of its period."""
    sc = stripe_client()
    if at_period_end:
        _call(
            sc.v1.subscriptions.update,
            stripe_subscription_id,
            params={"cancel_at_period_end": True},
        )
    else:
        _call(sc.v1.subscriptions.cancel, stripe_subscription_id)

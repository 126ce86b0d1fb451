"""Billing's pages: the workspace's subscription page and the Stripe webhook endpoint.
Each module defines its blueprint (endpoint names ``subscription.*`` and
``stripe_webhooks.receive``); they are registered here."""

from __future__ import annotations

from billing.views import stripe_webhook, subscription

BLUEPRINTS = (stripe_webhook.bp, subscription.bp)


def init_app(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

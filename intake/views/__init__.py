"""Intake's pages: the inbound mail webhook (endpoint ``mail_inbound.receive``)."""

from __future__ import annotations

from intake.views import webhook

BLUEPRINTS = (webhook.bp,)


def init_app(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

"""Intake's pages: the inbound mail webhook (endpoint ``mail_inbound.receive``) and the
original of a received e-mail on its ticket (``mail_messages.original_message``)."""

from __future__ import annotations

from desk import hooks
from intake.views import messages, webhook

BLUEPRINTS = (webhook.bp, messages.bp)


def init_app(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    hooks.register_entry_sources(messages.entry_sources)

"""Intake's pages: the inbound mail webhook (endpoint ``mail_inbound.receive``) and the
original of a received e-mail on its ticket (``mail_messages.original_message``), and the
unknown senders queue (``mail_unknown.queue``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from desk import hooks
from intake.views import messages, unknown, webhook

BLUEPRINTS = (webhook.bp, messages.bp, unknown.bp)


def init_app(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    hooks.register_entry_sources(messages.entry_sources)
    hooks.register_queue_link(_l("Unknown senders"), "mail_unknown.queue")

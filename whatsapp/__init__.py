"""A client's WhatsApp Business number (Cloud API) as a channel of its inbox (issue 17):
the channel's settings, Meta's signed webhook stored before the 200 and applied by a job
(messages of every kind, their files downloaded in the background, delivery statuses),
our messages sent by a job with retries, and approved templates outside the 24-hour
window."""


def init_app(app) -> None:
    from core import jobs
    from tenant import hooks
    from whatsapp import channels, message_templates, models, sending, views  # noqa: F401 - models: the tables

    app.register_blueprint(views.bp)
    app.register_blueprint(views.webhook_bp)
    # Our message stored for a client with a channel is sent through it (tenant never
    # names whatsapp); the conversation page offers the channel's templates.
    hooks.register_message_sent(sending.queue)
    hooks.register_conversation_part("whatsapp/_conversation_tools.html")
    hooks.register_channel_page(views.SETTINGS_LINK)
    app.jinja_env.globals["whatsapp_templates_of"] = message_templates.approved_of
    app.jinja_env.globals["whatsapp_channel_of"] = channels.channel_of_client
    jobs.periodic("whatsapp.tasks.sweep_events", 60, bypass="whatsapp-inbox")
    jobs.periodic("whatsapp.tasks.sweep_sends", 30, bypass="whatsapp-sends")
    jobs.periodic("whatsapp.tasks.sweep_media", 300, bypass="whatsapp-inbox")
    # Meta's status webhook keeps templates current; this catches new ones and lost webhooks.
    jobs.periodic("whatsapp.tasks.sync_templates", 6 * 3600, bypass="whatsapp-templates")

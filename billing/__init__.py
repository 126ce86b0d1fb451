"""Plans, subscriptions, payments, sessions and suspension."""


def init_app(app) -> None:
    from billing import cli, models, webhooks  # noqa: F401 - models registers the tables

    app.register_blueprint(webhooks.bp)
    cli.init_app(app)

"""The reseller panel: clients, exports, settings; and the operator CLI."""


def init_app(app) -> None:
    from reseller import billing_views, cli, login_as, models, plans, users, views  # noqa: F401 - models registers the tables

    app.register_blueprint(views.bp)
    cli.init_app(app)

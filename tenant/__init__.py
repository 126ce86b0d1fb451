"""Clients of a reseller and the client's own workspace."""


def init_app(app) -> None:
    from tenant import inbox_models, views  # noqa: F401 - inbox_models registers the tables

    app.register_blueprint(views.bp)
    app.register_blueprint(views.inbound_bp)

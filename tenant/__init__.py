"""Clients of a reseller and the client's own workspace."""


def init_app(app) -> None:
    from tenant import views

    app.register_blueprint(views.bp)

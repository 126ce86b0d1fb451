"""Clients of a reseller and the client's own workspace."""


def init_app(app) -> None:
    from auth.access import CLIENT_USER, register_home

    # inbox_models and domain_models register the tables; importing the views registers their routes.
    from tenant import domain_models, inbox_models, views  # noqa: F401

    app.register_blueprint(views.bp)
    register_home(CLIENT_USER, "tenant.home")
    app.register_blueprint(views.inbound_bp)
    app.register_blueprint(views.invitations_bp)

"""Clients of a reseller and the client's own workspace."""


def init_app(app) -> None:
    from auth.access import CLIENT_USER, register_home

    # inbox_models registers the tables; workspace_users adds its routes to the workspace blueprint.
    from tenant import inbox_models, invitations, views, workspace_users  # noqa: F401

    app.register_blueprint(views.bp)
    register_home(CLIENT_USER, "tenant.home")
    app.register_blueprint(views.inbound_bp)
    app.register_blueprint(invitations.bp)

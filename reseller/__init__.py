"""The reseller panel: clients, exports, settings; and the operator CLI."""


def init_app(app) -> None:
    from auth.access import STAFF, register_home
    from core import jobs
    from reseller import (  # noqa: F401 - models registers the tables, the views their routes
        billing_views,
        cli,
        deletion_views,
        history,
        login_as,
        models,
        plans,
        users,
        views,
    )

    app.register_blueprint(views.bp)
    register_home(STAFF, "reseller.clients", client_users="reseller.client_users")
    # Purges whose deadline passed, whether or not their delayed job survived.
    jobs.periodic("reseller.deletion.sweep_job", 600)
    cli.init_app(app)

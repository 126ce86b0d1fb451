"""The reseller panel: clients, exports, settings; and the operator CLI."""


def init_app(app) -> None:
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
    # Purges whose deadline passed, whether or not their delayed job survived.
    jobs.periodic("reseller.deletion.sweep_job", 600, bypass="client-purge-sweep")
    cli.init_app(app)

"""The reseller panel: clients, exports, settings; and the operator CLI."""


def init_app(app) -> None:
    from core import jobs
    from reseller import (  # noqa: F401 - models registers the tables, the views their routes
        cli,
        models,
        views,
    )
    from reseller.purge import SWEEP_EVERY_SECONDS

    app.register_blueprint(views.bp)
    # Purges whose deadline passed, whether or not their delayed job survived.
    jobs.periodic("reseller.tasks.sweep_job", SWEEP_EVERY_SECONDS)
    cli.init_app(app)

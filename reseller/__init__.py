"""The reseller panel: clients, exports, settings; and the operator CLI."""


def init_app(app) -> None:
    from auth.access import STAFF, register_home
    from core import jobs
    from reseller import (  # noqa: F401 - models registers the tables, the views their routes
        cli,
        models,
        views,
    )
    from reseller.audit_retention import SWEEP_EVERY_SECONDS as AUDIT_SWEEP_SECONDS
    from reseller.purge import SWEEP_EVERY_SECONDS

    app.register_blueprint(views.bp)
    # The pages of the packages below (service desks) are drawn in the panel's layout.
    app.jinja_env.globals["staff_layout"] = "reseller/layout.html"
    register_home(STAFF, "reseller.clients", client_users="reseller.client_users")
    # Purges whose deadline passed, whether or not their delayed job survived.
    jobs.periodic("reseller.tasks.sweep_job", SWEEP_EVERY_SECONDS, bypass="client-purge-sweep")
    # Audit events past each reseller's retention, and audit exports past their 10 minutes.
    jobs.periodic("reseller.tasks.audit_retention_job", AUDIT_SWEEP_SECONDS, bypass="audit-retention")
    cli.init_app(app)

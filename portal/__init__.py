"""The client portal (issue 15): what a client user does with the reseller inside the
workspace. First increment: the reseller's terms of use, accepted by each client user
before anything else (and the staff pages that write them and list who accepted).
Second: the knowledge base (staff write articles; client users and, for public ones,
anyone on the reseller's host read and search them)."""


def init_app(app) -> None:
    from desk.hooks import register_client_page
    from portal import models, views  # noqa: F401 - models registers the tables
    from tenant import hooks

    app.register_blueprint(views.bp)
    app.register_blueprint(views.staff_bp)
    app.register_blueprint(views.kb_staff_bp)
    app.register_blueprint(views.public_bp)
    # The staff panel's layout, until the package that draws the panel registers its own.
    app.jinja_env.globals.setdefault("staff_layout", "base.html")
    # Desk's approval e-mails link to the approver's page (desk never names portal).
    register_client_page("approvals", "portal.approvals")
    # Terms not yet accepted come before any workspace page (tenant never names portal).
    hooks.register_workspace_gate(views.terms.terms_gate, pages=views.terms.TERMS_PAGES)

"""The client portal (issue 15): what a client user does with the reseller inside the
workspace. First increment: the reseller's terms of use, accepted by each client user
before anything else (and the staff pages that write them and list who accepted).
Second: the knowledge base (staff write articles; client users and, for public ones,
anyone on the reseller's host read and search them). Third: the review of a resolved
ticket (accept, reopen with a reason) and its rating, in the portal or from an e-mailed
link."""


def init_app(app) -> None:
    from desk import hooks as desk_hooks
    from desk import ratings
    from portal import models, views  # noqa: F401 - models registers the tables
    from tenant import hooks

    app.register_blueprint(views.bp)
    app.register_blueprint(views.staff_bp)
    app.register_blueprint(views.kb_staff_bp)
    app.register_blueprint(views.public_bp)
    app.register_blueprint(views.rating_bp)
    # The page the rating e-mail's links open (desk never names the portal).
    desk_hooks.register_client_page(ratings.RATING_PAGE, "portal_rating.rate_page")
    # The staff panel's layout, until the package that draws the panel registers its own.
    app.jinja_env.globals.setdefault("staff_layout", "base.html")
    # Terms not yet accepted come before any workspace page (tenant never names portal).
    hooks.register_workspace_gate(views.terms.terms_gate, pages=views.terms.TERMS_PAGES)
    # Ticket e-mails to client users link to the ticket in the portal (desk never names it).
    desk_hooks.register_client_ticket_page("portal.ticket_page")
    # Approval e-mails link to the approver's page (desk never names portal).
    desk_hooks.register_client_page("approvals", "portal.approvals")
    # The workspace's "Portal" menu (tenant never names the portal's pages).
    for link in views.WORKSPACE_LINKS:
        hooks.register_workspace_link(link)

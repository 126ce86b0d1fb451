"""Identity: logins, accounts, roles, sessions and the permission check."""


def init_app(app) -> None:
    from auth import account_views, services, sessions, views

    app.register_blueprint(views.bp)
    account_views.init_app(app)
    app.before_request(sessions.load_request_session)
    app.before_request(services.enforce_login)

    @app.context_processor
    def _inject_account():
        account = services.current_account
        return {
            "current_account": account if account else None,
            "has_permission": services.has_permission,
            "home_url": services.home_url_for(account if account else None),
        }

"""Identity: logins, accounts, roles, sessions and the permission check."""


def init_app(app) -> None:
    from flask import has_request_context

    from auth import access, session_loader, sessions, views
    from core.tenancy import register_host_companion

    # Where the login's session token sits in the cookie, for core hooks that run before
    # the session is resolved (core.uploads.raise_body_limit).
    app.extensions["session_token_key"] = sessions.SESSION_KEY
    app.register_blueprint(views.auth_bp)
    app.register_blueprint(views.account_bp)
    app.jinja_env.globals["switchable_accounts"] = views.account.switchable_accounts
    access.login_manager.init_app(app, add_context_processor=False)
    register_host_companion(session_loader.HOST_COMPANION)
    app.before_request(session_loader.resolve_request_user)
    app.before_request(access.enforce_login)

    @app.context_processor
    def _inject_account():
        account = access.current_account
        values = {
            "current_account": account if account else None,
            "has_permission": access.has_permission,
            "is_owner": access.is_owner,
        }
        if has_request_context():
            values["home_url"] = access.home_url_for(account if account else None)
        return values

"""The reseller API (issue 16): API clients of a reseller (``/reseller/api``), the OAuth2
client-credentials server (``/oauth/...``, Authlib), the resources under ``/api/v1``
(Bearer tokens, Authlib's resource protector) and their OpenAPI 3.1 document, generated
from the code by flask-smorest (``/api/v1/openapi.json``, reference at ``/api/v1/docs``)."""

API_CONFIG = {
    "API_TITLE": "Revenda API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from api import (  # noqa: F401 - models registers the tables
        conventions,
        models,
        oauth,
        problems,
        protection,
        tasks,
        views,
    )
    from auth import permissions as perm
    from core import jobs
    from core.access import public
    from core.extensions import csrf
    from reseller import hooks

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    if app.config["APP_ENV"] == "demo":
        # The demo serves plain HTTP on localhost; Authlib refuses OAuth 2 over it otherwise
        # (production and the tests keep the refusal: insecure_transport).
        import os

        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app.config.setdefault("OPENAPI_URL_PREFIX", views.v1.url_prefix)
    app.extensions["api_oauth_server"] = oauth.make_server(app)
    app.register_blueprint(views.panel_bp)
    app.register_blueprint(views.oauth_bp)
    app.register_blueprint(views.docs_bp)
    token_url = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == "api_oauth.token")
    # One per application: flask-smorest's Api keeps its app and document on itself.
    openapi = views.OpenApi(app, spec_kwargs=views.spec_kwargs(token_url))
    openapi.register_blueprint(views.v1)
    # Machine endpoints: a client's credentials or a Bearer token, never a cookie (the
    # middleware drops them on these paths), so no CSRF token either.
    for blueprint in (views.oauth_bp, views.v1):
        csrf.exempt(blueprint)
    # Reached without a session (login_required is the default): the token decides.
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(("api_v1.", "api_oauth.", "api_docs.", "api-docs.")):
            app.view_functions[endpoint] = public(_as_function(view))
    app.extensions["api_prefixes"] = problems.api_prefixes(app)
    app.wsgi_app = conventions.CookielessPaths(app.wsgi_app, app.extensions["api_prefixes"])
    problems.install(app)
    # A live Bearer token may post a ticket's attachments (core.uploads.raise_body_limit).
    app.extensions.setdefault("upload_callers", []).append(protection.holds_live_token)
    app.after_request(conventions.add_headers)
    app.after_request(problems.normalise)
    # Idempotency answers past their lifetime, whether or not their key comes back.
    jobs.periodic("api.tasks.forget_expired_responses", tasks.SWEEP_EVERY_SECONDS, bypass="api-idempotency")
    hooks.register_panel_link(
        hooks.PanelLink("api_panel.clients", _l("API clients"), "plug", perm.API, "api_panel.")
    )


def _as_function(view):
    """A view that takes attributes (flask-smorest serves its document from a bound method)."""
    import functools

    if hasattr(view, "__dict__") and not hasattr(view, "__self__"):
        return view

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    return wrapped

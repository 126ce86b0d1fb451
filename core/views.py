"""Platform routes that belong to no domain: health, language, favicon, demo outbox, errors."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from core import branding, resubmit
from core.access import public, tenantless
from core.extensions import db
from core.jobs import get_redis
from core.mail import read_outbox
from core.redirects import safe_local_target
from core.tenancy import current_reseller
from core.validation import NulRefused

bp = Blueprint("core", __name__)


# A static file's URL, built once per file and script root: the same for every request
# under that root (the layout links seven on every page, 6-7 µs each through url_for).
# The script root is the server's mount point (no X-Forwarded-Prefix is trusted), so the
# keys are few.
_STATIC_URLS: dict[tuple[str, str], str] = {}


def static_url(filename: str) -> str:
    key = (request.script_root, filename)
    url = _STATIC_URLS.get(key)
    if url is None:
        url = _STATIC_URLS[key] = url_for("static", filename=filename)
    return url


@bp.get("/healthz")
@public
def healthz():
    """Answers 200 only when the database (and Redis, when configured) answer."""
    checks: dict[str, str] = {}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        checks["database"] = "unavailable"
        healthy = False
    if current_app.config.get("REDIS_URL"):
        try:
            get_redis(current_app).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unavailable"
            healthy = False
    else:
        checks["redis"] = "not configured (in-process jobs)"
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (200 if healthy else 503)


@bp.post("/lang")
@public
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_local_target(request.form.get("next")) or "/")


@bp.get("/favicon.ico")
@public
@tenantless
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: the same icon."""
    return send_from_directory(
        current_app.static_folder, "app/favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


# A year: the URL carries the image's version, so a new upload is a new URL.
ASSET_MAX_AGE = 365 * 86400


@bp.get("/brand/<kind>/<version>")
@public
def brand_asset(kind: str, version: str):
    """The logo or favicon of the reseller of this host, under its versioned URL: another
    reseller's version (or an old one) is a 404, never its image."""
    reseller = current_reseller
    if (
        reseller is None
        or kind not in branding.ASSET_KINDS
        or not version
        or getattr(reseller, f"{kind}_version") != version
    ):
        abort(404)
    response = Response(getattr(reseller, f"{kind}_data"), mimetype=getattr(reseller, f"{kind}_type"))
    response.set_etag(version)
    response.cache_control.public = True
    response.cache_control.max_age = ASSET_MAX_AGE
    response.cache_control.immutable = True
    # An SVG opened on its own runs nothing, whatever the sanitiser missed.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response.make_conditional(request)


@bp.get("/dev/outbox")
@public
def dev_outbox():
    if not current_app.config.get("SHOW_DEV_OUTBOX"):
        abort(404)
    return render_template("core/outbox.html", messages=read_outbox())


@bp.get("/")
@public
def index():
    # The login page is whatever the login manager names (auth sets it).
    return redirect(url_for(current_app.login_manager.login_view))


def _error(code: int, title: str, message: str):
    def handler(exc):
        if request.headers.get("HX-Request"):
            return f'<div class="alert alert-danger">{title}</div>', code
        # Our own refusals say what was wrong; Werkzeug's descriptions are not for users.
        shown = exc.description if isinstance(exc, NulRefused) else message
        return render_template("core/error.html", code=code, title=title, message=shown), code

    return handler


def init_app(app) -> None:
    app.register_blueprint(bp)
    resubmit.init_app(app)
    app.register_error_handler(
        400, _error(400, _l("Bad request"), _l("The request could not be understood."))
    )
    app.register_error_handler(403, _error(403, _l("Forbidden"), _l("You do not have permission for this.")))
    app.register_error_handler(404, _error(404, _l("Not found"), _l("This page does not exist.")))
    app.register_error_handler(429, _error(429, _l("Too many attempts"), _l("Please wait and try again.")))
    app.register_error_handler(500, _error(500, _l("Something went wrong"), _l("Please try again later.")))

    app.add_template_global(static_url)

    @app.context_processor
    def _inject():
        return {
            "current_reseller": current_reseller,
            "get_locale": get_locale,
            "brand_css": branding.css,
            "brand_asset_url": branding.asset_url,
        }

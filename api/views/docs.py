"""The API's reference page (``/api/v1/docs``): Redoc, vendored, reading the generated
``/api/v1/openapi.json``; no inline script, so it runs under the site's CSP."""

from __future__ import annotations

from flask import render_template

from api.views.blueprints import docs_bp


@docs_bp.get("/docs")
def reference():
    return render_template("api/reference.html")

"""The client user's terms page (``/app/terms``) and the gate that sends every
workspace request there first while the current version waits for the user's
acceptance (registered in ``tenant.hooks`` by ``portal.init_app``).

What stays reachable meanwhile is whatever is not a workspace page: logout, account
switching, ending a "log in as", static files, healthz. Staff logged in as the user see
the page with a note and no button: they cannot accept on the user's behalf.
"""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account, home_url_for, is_impersonating
from core.extensions import db
from core.redirects import safe_local_target
from core.validation import parse_int
from portal import terms
from portal.markdown_html import render
from portal.views.blueprints import bp

# The gate's own pages: open while the terms wait (tenant.hooks.register_workspace_gate).
TERMS_PAGES = ("portal.terms_page", "portal.accept_terms")


def terms_gate():
    """Before a workspace page: the terms page first, while the user has not accepted
    the current version (a GET comes back here after accepting). htmx requests get an
    ``HX-Redirect`` (a 302 would be followed by the XHR and swapped into the page)."""
    if not terms.must_accept(current_account):
        return None
    here = request.full_path if request.query_string else request.path
    target = safe_local_target(here) if request.method == "GET" else None
    url = url_for("portal.terms_page", next=target)
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def _target() -> str:
    """Where to go once the terms are accepted: a page of this site, else the home."""
    asked = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return safe_local_target(asked) or home_url_for(current_account)


@bp.get("/terms")
def terms_page():
    version = terms.current_version(current_account.reseller_id)
    if version is None:
        return redirect(_target())
    pending = terms.pending_version(current_account)
    return render_template(
        "portal/terms.html",
        version=version,
        body=render(version.body),
        pending=pending is not None,
        impersonating=is_impersonating(),
        next=safe_local_target(request.args.get("next")),
        target=_target(),
    )


@bp.post("/terms")
def accept_terms():
    if is_impersonating():
        abort(403)  # staff logged in as the user: never on the user's behalf
    version = terms.current_version(current_account.reseller_id)
    if version is None:
        return redirect(_target())
    if parse_int(request.form.get("version_id"), min=1) != version.id:
        # The page was read before a newer version was published: read that one.
        flash(_("A new version of the terms was published: please read it before accepting."), "warning")
        return redirect(url_for("portal.terms_page", next=safe_local_target(request.form.get("next"))))
    try:
        terms.accept(g.auth_session, version, ip=request.remote_addr, user_agent=request.user_agent.string)
    except terms.AcceptanceRefused:
        db.session.rollback()
        abort(403)
    db.session.commit()
    return redirect(_target())

"""The portal's blueprints, defined here only.

``portal`` holds the client user's pages inside the workspace (``/app/...``), behind the
workspace guard like every workspace page. ``portal_terms`` holds the staff pages of the
terms of use (``/reseller/terms``): staff with *staff and settings* only, drawn in the
staff panel's layout, whose template name the package above registers as
``staff_layout`` at start-up (portal never names it). ``portal_kb`` holds the staff
pages of the knowledge base (``/reseller/kb``), and ``portal_public`` the reseller's
public knowledge base (``/kb``), for anyone on the reseller's host, without a login.
``portal_rating`` holds the page an e-mailed rating link opens (``/rate/<token>``),
without a login: the signed token names the ticket and its requester.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l

from auth import permissions as perm
from auth.access import current_account, has_permission
from tenant.hooks import WorkspaceLink
from tenant.workspace import workspace_guard

TEMPLATES = str(Path(__file__).resolve().parent.parent / "templates")

bp = Blueprint("portal", __name__, url_prefix="/app", template_folder=TEMPLATES)
staff_bp = Blueprint("portal_terms", __name__, url_prefix="/reseller/terms", template_folder=TEMPLATES)
kb_staff_bp = Blueprint("portal_kb", __name__, url_prefix="/reseller/kb", template_folder=TEMPLATES)
public_bp = Blueprint("portal_public", __name__, url_prefix="/kb", template_folder=TEMPLATES)
rating_bp = Blueprint("portal_rating", __name__, url_prefix="/rate", template_folder=TEMPLATES)

bp.before_request(workspace_guard)

# The workspace's "Portal" menu, in its order (registered in tenant.hooks at start-up).
WORKSPACE_LINKS = (
    WorkspaceLink("portal.dashboard", _l("Dashboard"), "speedometer2", perm.PORTAL, "portal.dashboard"),
    WorkspaceLink("portal.tickets_page", _l("Tickets"), "life-preserver", perm.PORTAL, "portal.ticket"),
    WorkspaceLink("portal.approvals", _l("Approvals"), "check2-square", perm.PORTAL, "portal.approval"),
    WorkspaceLink("portal.reports_page", _l("Reports"), "bar-chart", perm.REPORTS, "portal.report"),
    WorkspaceLink("portal.kb_page", _l("Knowledge base"), "journal-text", perm.PORTAL, "portal.kb"),
)


@staff_bp.before_request
def _staff_with_settings_only():
    if current_account and not current_account.is_staff:
        abort(403)
    if current_account and not has_permission(perm.STAFF_SETTINGS):
        abort(403)


@kb_staff_bp.before_request
def _staff_with_desks_only():
    # The knowledge base is the service desks' material (what agents point clients to,
    # what a ticket's subject suggests), written by whoever runs the desks: *desks*, not
    # *staff and settings*, which is the reseller's own set-up (staff, roles, terms).
    if current_account and not current_account.is_staff:
        abort(403)
    if current_account and not has_permission(perm.DESKS):
        abort(403)

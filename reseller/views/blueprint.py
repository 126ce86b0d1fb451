"""The reseller panel's blueprint (``/reseller/...``), defined here once: staff only, plus
the template helpers every panel page uses. ``reseller.views`` imports each page module."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from auth import permissions as perm
from auth.access import current_account, has_permission
from core.formatting import label
from reseller.hooks import panel_links
from tenant import documents, phones
from tenant.states import PaymentStatus

bp = Blueprint("reseller", __name__, url_prefix="/reseller", template_folder="../templates")


@bp.before_request
def _staff_only():
    if current_account and not current_account.is_staff:
        abort(403)


@bp.app_template_global()
def format_document(kind, value):
    return documents.format_document(kind, value)


PAYMENT_TYPE_LABELS = {
    "card": _l("Card"),
    "boleto": _l("Boleto"),
    "pix": _l("PIX"),
    "stripe": _l("Stripe (card, boleto or PIX)"),
    "transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
}
PAYMENT_STATUS_LABELS = {
    PaymentStatus.PAID: _l("Paid"),
    PaymentStatus.PENDING: _l("Pending"),
    PaymentStatus.OVERDUE: _l("Overdue"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.REFUNDED: _l("Refunded"),
    PaymentStatus.CANCELLED: _l("Cancelled"),
}


# The helpers below return ``core.formatting.label``'s text: a lazy string rendered as it
# is goes through Flask-Babel's lookup of the catalogue (7 µs; 2 µs this way).
PERIOD_LABELS = {"monthly": _l("Monthly"), "quarterly": _l("Quarterly"), "yearly": _l("Yearly")}


@bp.app_template_global()
def period_label(value):
    return label(PERIOD_LABELS.get(value, value))


@bp.app_template_global()
def payment_type_label(value):
    return label(PAYMENT_TYPE_LABELS.get(value, value))


@bp.app_template_global()
def payment_status_label(value):
    return label(PAYMENT_STATUS_LABELS.get(value, value))


@bp.app_template_global()
def format_phone(value):
    return phones.format_phone(value)


@bp.app_context_processor
def _panel_helpers():
    return {"staff_can": has_permission}


# The section of the panel each endpoint belongs to (its link is shown active), by prefix.
NAV_SECTIONS = (
    ("clients", ("reseller.client",)),
    ("tickets", ("desk_tickets.", "mail_unknown.")),
    ("domains", ("reseller.domain", "reseller.webmail")),
    ("plans", ("reseller.plan",)),
    ("desks", ("desk.",)),
    ("kb", ("portal_kb.",)),
    ("custom_fields", ("reseller.custom_field",)),
    ("staff", ("reseller.staff",)),
    ("roles", ("reseller.role",)),
    ("terms", ("portal_terms.",)),
    ("settings", ("reseller.settings",)),
    ("audit", ("reseller.audit",)),
)
NAV_PERMISSIONS = (perm.CLIENTS, perm.PLANS, perm.DESKS, perm.STAFF_SETTINGS, perm.AUDIT_LOG)
_NAV_HTML: dict[tuple, Markup] = {}


def nav_section(endpoint: str | None) -> str:
    endpoint = endpoint or ""
    found = next((name for name, prefixes in NAV_SECTIONS if endpoint.startswith(prefixes)), "")
    if not found:
        # The pages packages above registered (reseller.hooks), each its own section.
        found = next((link.endpoint for link in panel_links() if endpoint.startswith(link.active_prefix)), "")
    return found


@bp.app_template_global()
def panel_nav() -> Markup:
    """The panel's navigation links (``reseller/_nav.html``), rendered once per language,
    script root, section and permissions in this process, then reused: they hold nothing
    else (no name, no token), and building their URLs and labels on every page cost
    about 0.2 ms. At most 2 languages x 12 sections x 32 permission sets per root (and,
    for each link registered in ``reseller.hooks``, one more section and permission)."""
    links = panel_links()
    allowed = {
        name: has_permission(name) for name in (*NAV_PERMISSIONS, *(link.permission for link in links))
    }
    active = nav_section(request.endpoint)
    key = (str(get_locale()), request.script_root, active, tuple(allowed.values()))
    html = _NAV_HTML.get(key)
    if html is None:
        rendered = render_template("reseller/_nav.html", active=active, allowed=allowed, links=links)
        html = _NAV_HTML[key] = Markup(rendered)  # noqa: S704 - our template, escaped by Jinja
    return html

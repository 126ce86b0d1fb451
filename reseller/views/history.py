"""A client's history: what staff (and the system) did to it, from the audit log."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l

from auth import permissions as perm
from auth.access import require_permission
from core.extensions import db
from core.models import AuditEvent
from core.tenancy import get_or_404, scoped_select
from reseller.views.blueprint import bp
from tenant.models import Client

# The events that change the client as a whole, with how the history names them.
HISTORY_ACTIONS = {
    "client.created": _l("Client added"),
    "client.updated": _l("Registration changed"),
    "client.inactivated": _l("Inactivated"),
    "client.reactivated": _l("Reactivated"),
    "client.suspended": _l("Suspended"),
    "client.suspension_lifted": _l("Suspension lifted"),
    "billing.plan_added": _l("Plan added"),
    "billing.plan_changed": _l("Plan changed"),
    "billing.plan_cancelled": _l("Plan cancelled"),
    "billing.plan_ended": _l("Plan ended"),
    "billing.manual_payment": _l("Payment recorded"),
    "billing.invoice_paid": _l("Invoice paid"),
    "billing.extra_pack_added": _l("Extra conversations added"),
    "client.deletion_requested": _l("Deletion asked for (code sent)"),
    "client.deletion_confirmed": _l("Deleted"),
    "client.deletion_cancelled": _l("Deletion cancelled: client restored"),
    "client.email_review_done": _l("Created by e-mail: marked as reviewed"),
    "client_domain.added": _l("Domain added"),
    "client_domain.moved": _l("Domain moved to this client"),
    "client_domain.removed": _l("Domain removed"),
    "client_domain.logins_linked": _l("Users of its domain linked"),
}
HISTORY_LIMIT = 200


@bp.get("/clients/<int:client_id>/history")
@require_permission(perm.CLIENTS)
def client_history(client_id: int):
    client = get_or_404(Client, client_id)
    events = db.session.scalars(
        scoped_select(AuditEvent, client_id=client.id)
        .where(AuditEvent.action.in_(HISTORY_ACTIONS))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return render_template(
        "reseller/client_history.html", client=client, events=events, labels=HISTORY_ACTIONS
    )

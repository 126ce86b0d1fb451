"""A client's history: what staff (and the system) did to it, from the audit log."""

from __future__ import annotations

from flask import render_template

from auth import permissions as perm
from auth.access import require_permission
from core.audit_labels import ACTION_LABELS
from core.extensions import db
from core.models import AuditEvent
from core.tenancy import get_or_404, scoped_select
from reseller.views.blueprint import bp
from tenant.models import Client

# The events that change the client as a whole, named as the audit log names them.
HISTORY_ACTIONS = {
    action: ACTION_LABELS[action]
    for action in (
        "client.created",
        "client.updated",
        "client.inactivated",
        "client.reactivated",
        "client.suspended",
        "client.suspension_lifted",
        "billing.plan_added",
        "billing.plan_changed",
        "billing.plan_cancelled",
        "billing.plan_ended",
        "billing.manual_payment",
        "billing.invoice_paid",
        "billing.extra_pack_added",
        "client.deletion_requested",
        "client.deletion_confirmed",
        "client.deletion_cancelled",
        "client.email_review_done",
        "client_domain.added",
        "client_domain.moved",
        "client_domain.removed",
        "client_domain.logins_linked",
    )
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

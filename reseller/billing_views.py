"""A client's billing page in the reseller panel: plan and sessions, invoices and
payments, suspension (with its history), extra-conversation packs."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from auth import permissions as perm
from auth.services import has_permission, require_permission
from billing import services as billing
from billing.models import ExtraPack, Payment, SuspensionEvent
from core.extensions import db
from core.tenancy import get_or_404
from reseller.views import bp
from tenant.models import Client


def _back(client: Client):
    return redirect(url_for("reseller.client_billing", client_id=client.id))


@bp.get("/clients/<int:client_id>/billing")
@require_permission(perm.CLIENTS)
def client_billing(client_id: int):
    client = get_or_404(Client, client_id)
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.client_id == client.id)
        .order_by(Payment.due_date.desc(), Payment.id.desc())
    ).all()
    history = db.session.scalars(
        select(SuspensionEvent)
        .where(SuspensionEvent.client_id == client.id)
        .order_by(SuspensionEvent.created_at.desc(), SuspensionEvent.id.desc())
    ).all()
    packs = db.session.scalars(
        select(ExtraPack).where(ExtraPack.client_id == client.id).order_by(ExtraPack.created_at.desc())
    ).all()
    return render_template(
        "reseller/client_billing.html",
        client=client,
        subscription=billing.current_subscription(client),
        payments=payments,
        history=history,
        packs=packs,
        may_invoice=has_permission(perm.CLIENT_INVOICES),
        may_add_extras=has_permission(perm.EXTRA_CONVERSATIONS),
    )


def _apply(client: Client, action, success: str):
    try:
        action()
    except billing.BillingRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return _back(client)


@bp.post("/clients/<int:client_id>/suspend")
@require_permission(perm.CLIENTS)
def client_suspend(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    return _apply(
        client,
        lambda: billing.manual_suspend(
            client, request.form.get("reason", ""), actor_account_id=g.actor_account_id
        ),
        _("%(name)s was suspended.", name=client.trade_name),
    )


@bp.post("/clients/<int:client_id>/unsuspend")
@require_permission(perm.CLIENTS)
def client_unsuspend(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    return _apply(
        client,
        lambda: billing.manual_lift(
            client, request.form.get("reason", ""), actor_account_id=g.actor_account_id
        ),
        _("%(name)s was reactivated.", name=client.trade_name),
    )


@bp.post("/clients/<int:client_id>/extra-packs")
@require_permission(perm.EXTRA_CONVERSATIONS)
def client_extra_pack(client_id: int):
    client = get_or_404(Client, client_id)
    conversations = request.form.get("conversations", type=int) or 0
    return _apply(
        client,
        lambda: billing.add_extra_pack(client, conversations, actor_account_id=g.actor_account_id),
        _("%(n)d extra conversations added.", n=conversations),
    )


@bp.post("/clients/<int:client_id>/payments/<int:payment_id>/paid")
@require_permission(perm.CLIENT_INVOICES)
def client_payment_paid(client_id: int, payment_id: int):
    client = get_or_404(Client, client_id)
    payment = db.session.scalar(
        select(Payment).where(Payment.id == payment_id, Payment.client_id == client.id).with_for_update()
    )
    if payment is None:
        abort(404)
    return _apply(
        client,
        lambda: billing.record_manual_payment(
            payment, request.form.get("method", ""), actor_account_id=g.actor_account_id
        ),
        _("Payment recorded."),
    )

"""A client's billing page in the reseller panel: plan and sessions, invoices and
payments, suspension (with its history), extra-conversation packs."""

from __future__ import annotations

from datetime import date, datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from auth import permissions as perm
from auth.access import has_permission, require_permission
from billing import subscriptions
from billing.balance import add_extra_pack
from billing.errors import BillingRejected
from billing.invoices import record_manual_payment
from billing.models import ExtraPack, Payment, Plan, SuspensionEvent
from billing.states import UPGRADES, PlanChangeOutcome
from billing.stripe.gateway import StripeUnavailable
from billing.summary import current_subscription
from billing.suspension import manual_lift, manual_suspend
from core.extensions import db
from core.formatting import date_br, money
from core.tenancy import get_or_404, scoped_select
from core.timeutil import today_local
from core.validation import parse_int
from reseller.views.blueprint import bp
from tenant.models import Client


def _back(client: Client):
    return redirect(url_for("reseller.client_billing", client_id=client.id))


@bp.get("/clients/<int:client_id>/billing")
@require_permission(perm.CLIENTS)
def client_billing(client_id: int):
    client = get_or_404(Client, client_id)
    payments = db.session.scalars(
        scoped_select(Payment, client_id=client.id).order_by(Payment.due_date.desc(), Payment.id.desc())
    ).all()
    history = db.session.scalars(
        scoped_select(SuspensionEvent, client_id=client.id).order_by(
            SuspensionEvent.created_at.desc(), SuspensionEvent.id.desc()
        )
    ).all()
    packs = db.session.scalars(
        scoped_select(ExtraPack, client_id=client.id).order_by(ExtraPack.created_at.desc())
    ).all()
    return render_template(
        "reseller/client_billing.html",
        client=client,
        subscription=current_subscription(client),
        payments=payments,
        history=history,
        packs=packs,
        may_invoice=has_permission(perm.CLIENT_INVOICES),
        plans=db.session.scalars(
            scoped_select(Plan).where(Plan.retired_at.is_(None)).order_by(Plan.price_cents, Plan.name)
        ).all(),
        today=today_local(),
        may_add_extras=has_permission(perm.EXTRA_CONVERSATIONS),
    )


def _apply(client: Client, action, success: str):
    try:
        action()
    except (BillingRejected, StripeUnavailable) as exc:
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
        lambda: manual_suspend(client, request.form.get("reason", ""), actor_account_id=g.actor_account_id),
        _("%(name)s was suspended.", name=client.trade_name),
    )


@bp.post("/clients/<int:client_id>/unsuspend")
@require_permission(perm.CLIENTS)
def client_unsuspend(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    return _apply(
        client,
        lambda: manual_lift(client, request.form.get("reason", ""), actor_account_id=g.actor_account_id),
        _("%(name)s was reactivated.", name=client.trade_name),
    )


@bp.post("/clients/<int:client_id>/extra-packs")
@require_permission(perm.EXTRA_CONVERSATIONS)
def client_extra_pack(client_id: int):
    client = get_or_404(Client, client_id)
    conversations = parse_int(request.form.get("conversations")) or 0
    return _apply(
        client,
        lambda: add_extra_pack(client, conversations, actor_account_id=g.actor_account_id),
        _("%(n)d extra conversations added.", n=conversations),
    )


@bp.post("/clients/<int:client_id>/payments/<int:payment_id>/paid")
@require_permission(perm.CLIENT_INVOICES)
def client_payment_paid(client_id: int, payment_id: int):
    client = get_or_404(Client, client_id)
    payment = get_or_404(Payment, payment_id, client_id=client.id, for_update=True)
    return _apply(
        client,
        lambda: record_manual_payment(
            payment, request.form.get("method", ""), actor_account_id=g.actor_account_id
        ),
        _("Payment recorded."),
    )


# --- the client's plan: add, change, cancel ------------------------------------------


def _plan(plan_id: int | None) -> Plan | None:
    """One of the current reseller's plans (retired too), or ``None``."""
    if plan_id is None:
        return None
    return db.session.scalar(scoped_select(Plan).where(Plan.id == plan_id))


def _chosen_plan() -> Plan | None:
    return _plan(parse_int(request.form.get("plan_id")))


def _due_date() -> date | None:
    """The form's due date (ISO from the date input, or dd/mm/yyyy typed)."""
    text = (request.form.get("due_date") or "").strip()
    if not text:
        return None
    try:
        if "/" in text:
            return datetime.strptime(text, "%d/%m/%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        raise BillingRejected(_("Enter the due date as dd/mm/yyyy.")) from None


@bp.post("/clients/<int:client_id>/plan")
@require_permission(perm.CLIENT_INVOICES)
def client_plan_add(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    return _apply(
        client,
        lambda: subscriptions.add_plan(client, _chosen_plan(), request.form.get("method", ""), _due_date()),
        _("Plan added to %(name)s.", name=client.trade_name),
    )


CHANGE_MESSAGES = {
    PlanChangeOutcome.REPLACED: _l("Plan changed; the first invoice was replaced."),
    PlanChangeOutcome.UPGRADE_INVOICED: _l("Upgrade invoiced: the new plan starts when the invoice is paid."),
    PlanChangeOutcome.UPGRADED: _l("Plan changed."),
    PlanChangeOutcome.SCHEDULED: _l("The new plan starts with the next period."),
    PlanChangeOutcome.METHOD_CHANGED: _l("Payment type changed."),
}


# Choosing another plan means the client stays: a cancellation set for the period's end
# is dropped, and staff are told so (before saving, in the preview, and after).
UNDO_CANCEL_MESSAGE = _l(
    "The cancellation set for the end of the period is undone: the client goes on with the new plan."
)


@bp.post("/clients/<int:client_id>/plan/change")
@require_permission(perm.CLIENT_INVOICES)
def client_plan_change(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    current = current_subscription(client)
    was_ending = current is not None and current.cancel_at_period_end
    try:
        outcome, _payment = subscriptions.change_plan(client, _chosen_plan(), request.form.get("method", ""))
    except BillingRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(str(CHANGE_MESSAGES[outcome]), "success")
        if was_ending and outcome != PlanChangeOutcome.METHOD_CHANGED:
            flash(str(UNDO_CANCEL_MESSAGE), "warning")
    return _back(client)


@bp.get("/clients/<int:client_id>/plan/preview")
@require_permission(perm.CLIENT_INVOICES)
def client_plan_preview(client_id: int):
    """htmx: what choosing a plan in the change form would do, before saving."""
    client = get_or_404(Client, client_id)
    sub = current_subscription(client)
    plan = _plan(parse_int(request.args.get("plan_id")))
    text = ""
    change = (
        subscriptions.plan_change_outcome(sub, plan, today_local())
        if sub is not None and plan is not None
        else None
    )
    if change is not None and change.outcome != PlanChangeOutcome.METHOD_CHANGED:
        if change.outcome == PlanChangeOutcome.REPLACED:
            text = _("The open first invoice is replaced by one of %(amount)s.", amount=money(change.amount))
        elif change.outcome in UPGRADES:
            text = _(
                "Upgrade: an invoice of %(amount)s now (%(days)d days left, credit of %(credit)s). "
                "The due date stays %(due)s.",
                amount=money(change.amount),
                days=change.days_left,
                credit=money(change.credit),
                due=date_br(sub.current_period_end),
            )
        else:
            text = _(
                "Takes effect on %(due)s, with the next period. Nothing is billed now.",
                due=date_br(sub.current_period_end),
            )
        if sub.cancel_at_period_end:
            text += " " + UNDO_CANCEL_MESSAGE
    return render_template("reseller/_plan_preview.html", text=text)


@bp.post("/clients/<int:client_id>/plan/cancel")
@require_permission(perm.CLIENT_INVOICES)
def client_plan_cancel(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    when = request.form.get("when", "")
    return _apply(
        client,
        lambda: subscriptions.cancel_plan(client, when),
        _("Plan cancelled.") if when == "now" else _("The plan ends with the current period."),
    )


@bp.post("/clients/<int:client_id>/plan/keep")
@require_permission(perm.CLIENT_INVOICES)
def client_plan_keep(client_id: int):
    client = get_or_404(Client, client_id, for_update=True)
    return _apply(client, lambda: subscriptions.keep_plan(client), _("The plan continues."))

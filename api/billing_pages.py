"""A client's billing through the API: the reseller's plans, the client's subscription
(changed by ``billing.subscriptions``, with the panel's preview), its invoices and
payments (a manual payment recorded by ``billing.invoices``) and what it used of its
period (``billing.usage``); refusals as problems (422 naming the input, else 409)."""

from __future__ import annotations

from flask_babel import gettext as _

from api.conventions import cents, iso
from api.lifecycle import billing_action
from api.problems import Problem
from billing import subscriptions
from billing.invoices import record_manual_payment
from billing.models import Payment, Plan, Subscription
from billing.states import PlanChangeOutcome
from billing.summary import current_subscription
from billing.usage import period_use
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import today_local
from tenant.models import Client

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def plan_json(plan: Plan) -> dict:
    return {
        "id": plan.id,
        "name": plan.name,
        "price": cents(plan.price_cents, plan.currency),
        "period": plan.period,
        "sessions_per_period": plan.sessions_per_period,
        "retired": plan.retired_at is not None,
        "created_at": iso(plan.created_at),
    }


def _plan_ref(plan: Plan | None) -> dict | None:
    return {"id": plan.id, "name": plan.name} if plan is not None else None


def subscription_json(sub: Subscription) -> dict:
    return {
        "id": sub.id,
        "client_id": sub.client_id,
        "plan": _plan_ref(sub.plan),
        "status": sub.status,
        "payment_method": sub.payment_method,
        "current_period_start": iso(sub.current_period_start),
        "current_period_end": iso(sub.current_period_end),
        "cancel_at_period_end": bool(sub.cancel_at_period_end),
        "next_plan": _plan_ref(sub.next_plan),
        "managed_in_stripe": bool(sub.stripe_subscription_id),
        "created_at": iso(sub.created_at),
        "cancelled_at": iso(sub.cancelled_at),
    }


def payment_json(payment: Payment) -> dict:
    return {
        "id": payment.id,
        "client_id": payment.client_id,
        "subscription_id": payment.subscription_id,
        "kind": payment.kind,
        "description": payment.description,
        "amount": cents(payment.amount_cents),
        "payment_type": payment.payment_type,
        "status": payment.status,
        "due_date": iso(payment.due_date),
        "paid_at": iso(payment.paid_at),
        "created_at": iso(payment.created_at),
    }


def _page(stmt, model, limit: int, starting_after: int | None, *, newest_first: bool = False):
    """Up to ``limit`` rows after the row ``starting_after`` (one of ``stmt``'s, else a 422)."""
    if starting_after is not None:
        if db.session.scalar(stmt.where(model.id == starting_after)) is None:
            raise Problem(422, "invalid_parameter", _("No such id in this list."), param="starting_after")
        stmt = stmt.where(model.id < starting_after if newest_first else model.id > starting_after)
    order = model.id.desc() if newest_first else model.id
    rows = list(db.session.scalars(stmt.order_by(order).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def plans_page(limit: int, starting_after: int | None):
    return _page(scoped_select(Plan), Plan, limit, starting_after)


def payments_page(client: Client, limit: int, starting_after: int | None):
    stmt = scoped_select(Payment, client_id=client.id)
    return _page(stmt, Payment, limit, starting_after, newest_first=True)


def subscription_or_404(client: Client) -> Subscription:
    sub = current_subscription(client)
    if sub is None:
        raise Problem(404, "no_subscription", _("This client has no plan."))
    return sub


def _plan(plan_id: int) -> Plan | None:
    """One of the reseller's plans (retired too: the rule refuses those), or ``None``."""
    return db.session.scalar(scoped_select(Plan).where(Plan.id == plan_id))


def change_plan(client: Client, plan_id: int, method: str, *, preview: bool) -> dict:
    """The plan change (or, with ``preview``, what it would do: nothing changes)."""
    plan = _plan(plan_id)
    was_ending = (sub := current_subscription(client)) is not None and sub.cancel_at_period_end
    today = today_local()
    # The panel's decision (its preview), then, unless previewing, the change made on it.
    _current, change = billing_action(lambda: subscriptions.preview_change(client, plan, method, today=today))
    invoice = None
    if not preview:
        outcome, invoice = billing_action(
            lambda: subscriptions.change_plan(client, plan, method, today=today)
        )
        if outcome != change.outcome:
            change = subscriptions.PlanChange(outcome)
    return {
        "preview": preview,
        "outcome": str(change.outcome),
        "amount": cents(change.amount),
        "credit": cents(change.credit),
        "days_left": change.days_left,
        "cancellation_undone": was_ending and change.outcome != PlanChangeOutcome.METHOD_CHANGED,
        "invoice": payment_json(invoice) if invoice is not None else None,
        "subscription": subscription_json(current_subscription(client) or sub) if sub is not None else None,
    }


def cancel(client: Client, when: str) -> Subscription:
    return billing_action(lambda: subscriptions.cancel_plan(client, when))


def record_payment(payment: Payment, method: str) -> None:
    billing_action(lambda: record_manual_payment(payment, method))


def usage(client: Client) -> dict:
    use = period_use(client.id, current_subscription(client), today_local())
    return {
        "period_start": iso(use.period_start),
        "period_end": iso(use.period_end),
        "sessions_used": use.sessions_used,
        "sessions_remaining": client.sessions_remaining,
        "days": [{"day": iso(d.day), "sessions": d.count} for d in use.days],
    }

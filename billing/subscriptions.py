"""A client's plan over time: add, change, cancel, and what paying an invoice does.

The rules (SPEC, billing):

- Adding a plan issues an invoice for the plan's price. A due date in the future
  activates the plan now and bills on that date; a due date of today keeps the
  subscription *pending* until that invoice is paid. The due date is the end of the
  current paid period.
- An upgrade (same billing period, higher price) issues an invoice for the rest of the
  period: the new price for the days left minus the unused part of the old price
  (both prorated by days). It takes effect when paid; the due date does not move.
- A downgrade, or a change to another billing period, waits for the period's end (no
  invoice now, nothing credited); the roll-over switches the plan.
- Cancelling ends the plan now (open invoices not yet due are voided, overdue debt
  stays) or at the end of the period.

Every function changes rows of one client inside the caller's transaction, keeps the
client list's billing columns true (``refresh_client_summary``) and audits. Bad
requests raise :class:`BillingRejected` before anything changed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from billing import notices
from billing.models import PAYMENT_METHODS, PERIOD_MONTHS, Payment, Plan, Subscription
from billing.services import BillingRejected, current_subscription, lift_suspension, refresh_client_summary
from core import audit
from core.extensions import db
from core.timeutil import LOCAL_TZ, add_months, today_local, utcnow
from tenant.models import Client

MAX_DAYS_AHEAD = 366


def open_invoice_type(method: str) -> str:
    """The payment type shown on an unpaid invoice: Stripe (the client picks card,
    boleto or PIX at checkout) or a bank transfer recorded by staff."""
    return "stripe" if method == "stripe" else "transfer"


def _check_choice(client: Client, plan: Plan | None, method: str) -> None:
    if plan is None or plan.reseller_id != client.reseller_id:
        raise BillingRejected(_("Choose one of your plans."))
    if plan.retired_at is not None:
        raise BillingRejected(_("This plan was retired; choose a plan that is offered."))
    if method not in PAYMENT_METHODS:
        raise BillingRejected(_("Choose Stripe or manual payment."))
    if client.deleted_at is not None:
        raise BillingRejected(_("This client was deleted."))


def _invoice(sub: Subscription, *, kind: str, amount: int, due: date, description: str, target=None):
    payment = Payment(
        reseller_id=sub.reseller_id,
        client_id=sub.client_id,
        subscription_id=sub.id,
        description=description[:200],
        amount_cents=amount,
        payment_type=open_invoice_type(sub.payment_method),
        status="pending",
        due_date=due,
        kind=kind,
        target_plan_id=target.id if target is not None else None,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def _void_open(sub: Subscription, *, kinds: tuple[str, ...], only_not_overdue: bool = True) -> int:
    """Void the open invoices of ``kinds``. Overdue plan and renewal invoices are
    debt for time already given and stay; an upgrade never given is always voided."""
    statuses = ("pending", "failed") if only_not_overdue else Payment.OPEN
    return (
        db.session.execute(
            update(Payment)
            .where(Payment.subscription_id == sub.id, Payment.kind.in_(kinds), Payment.status.in_(statuses))
            .values(status="cancelled")
            .execution_options(synchronize_session="fetch")
        ).rowcount
        or 0
    )


def void_upgrades(sub: Subscription) -> int:
    return _void_open(sub, kinds=("upgrade",), only_not_overdue=False)


def add_plan(
    client: Client, plan: Plan | None, method: str, due: date | None, *, today: date | None = None
) -> Subscription:
    """Give ``client`` a plan with its first invoice (see the module's rules)."""
    today = today or today_local()
    _check_choice(client, plan, method)
    if current_subscription(client) is not None:
        raise BillingRejected(_("This client already has a plan. Change or cancel it instead."))
    due = due or today
    if due < today:
        raise BillingRejected(_("The due date cannot be in the past."))
    if (due - today).days > MAX_DAYS_AHEAD:
        raise BillingRejected(_("The due date can be at most one year ahead."))
    active = due > today
    sub = Subscription(
        reseller_id=client.reseller_id,
        client_id=client.id,
        plan_id=plan.id,
        status="active" if active else "pending",
        payment_method=method,
        current_period_start=today if active else None,
        current_period_end=due if active else None,
    )
    db.session.add(sub)
    db.session.flush()
    payment = _invoice(sub, kind="plan", amount=plan.price_cents, due=due, description=plan.name)
    if active:
        client.sessions_consumed = 0
    refresh_client_summary(client)
    audit.record(
        "billing.plan_added",
        client,
        details={"plan_id": plan.id, "method": method, "due_date": due.isoformat(), "status": sub.status},
    )
    notices.queue(client, "new_plan", payment=payment, plan=plan)
    return sub


# Below this an upgrade is not worth an invoice (Stripe's minimum charge in BRL is
# R$ 0,50): it takes effect at once.
MIN_INVOICE_CENTS = 100


def upgrade_amount(sub: Subscription, new_plan: Plan, today: date) -> tuple[int, int, int]:
    """(amount to invoice, credit of the old plan, days left) for an upgrade today,
    prorated over the plan's nominal period ending on the due date (a first period
    stretched by a far due date does not make an upgrade cheaper)."""
    end = sub.current_period_end
    nominal_start = add_months(end, -PERIOD_MONTHS.get(sub.plan.period, 1))
    total = max((end - nominal_start).days, 1)
    left = min(max((end - today).days, 0), total)
    credit = round(sub.plan.price_cents * left / total)
    charge = round(new_plan.price_cents * left / total)
    return max(charge - credit, 0), credit, left


def change_plan(
    client: Client, plan: Plan | None, method: str, *, today: date | None = None
) -> tuple[str, Payment | None]:
    """Change the plan (or only the payment type). Returns what happened:
    ``replaced`` (pending plan swapped), ``upgrade_invoiced``, ``upgraded`` (nothing to
    pay), ``scheduled`` (from the next period) or ``method_changed``."""
    today = today or today_local()
    _check_choice(client, plan, method)
    sub = current_subscription(client)
    if sub is None:
        raise BillingRejected(_("This client has no plan yet. Add one."))
    if sub.stripe_subscription_id:
        raise BillingRejected(
            _("This subscription is managed in Stripe: cancel it and add the new plan here.")
        )
    details = {"from_plan_id": sub.plan_id, "to_plan_id": plan.id, "method": method}
    if plan.id == sub.plan_id:
        if method == sub.payment_method and sub.next_plan_id is None:
            raise BillingRejected(_("The client already has this plan with this payment type."))
        sub.payment_method, sub.next_plan_id = method, None
        db.session.execute(
            update(Payment)
            .where(Payment.subscription_id == sub.id, Payment.status.in_(Payment.OPEN))
            .values(payment_type=open_invoice_type(method))
            .execution_options(synchronize_session="fetch")
        )
        _finish(client, "billing.plan_method_changed", details)
        return "method_changed", None
    sub.payment_method = method
    if sub.cancel_at_period_end:
        # Another plan means the client stays: the cancellation is dropped, and said so.
        details["cancellation_undone"] = True
        sub.cancel_at_period_end = False
    if sub.status == "pending":
        # Not paid yet: the first invoice is replaced by one for the new plan.
        old_due = db.session.scalar(
            select(Payment.due_date).where(
                Payment.subscription_id == sub.id, Payment.kind == "plan", Payment.status.in_(Payment.OPEN)
            )
        )
        _void_open(sub, kinds=("plan",), only_not_overdue=False)
        sub.plan_id, sub.next_plan_id = plan.id, None
        db.session.flush()
        db.session.refresh(sub)
        payment = _invoice(
            sub, kind="plan", amount=plan.price_cents, due=max(old_due or today, today), description=plan.name
        )
        _finish(client, "billing.plan_changed", details | {"outcome": "replaced"})
        notices.queue(client, "new_plan", payment=payment, plan=plan)
        return "replaced", payment
    same_period = plan.period == sub.plan.period
    if same_period and plan.price_cents > sub.plan.price_cents:
        void_upgrades(sub)
        sub.next_plan_id = None
        amount, credit, left = upgrade_amount(sub, plan, today)
        if amount < MIN_INVOICE_CENTS:
            sub.plan_id = plan.id
            db.session.flush()
            db.session.refresh(sub)
            _finish(client, "billing.plan_changed", details | {"outcome": "upgraded"})
            notices.queue(client, "new_plan", plan=plan)
            return "upgraded", None
        payment = _invoice(
            sub,
            kind="upgrade",
            amount=amount,
            due=today,
            target=plan,
            description=_(
                "Upgrade to %(plan)s: %(days)d days left, credit of %(credit)s",
                plan=plan.name,
                days=left,
                credit=_money(credit),
            ),
        )
        _finish(client, "billing.plan_changed", details | {"outcome": "upgrade_invoiced", "amount": amount})
        return "upgrade_invoiced", payment
    # A downgrade or another period: from the next period on.
    void_upgrades(sub)
    sub.next_plan_id = plan.id
    _finish(client, "billing.plan_changed", details | {"outcome": "scheduled"})
    return "scheduled", None


def cancel_plan(client: Client, when: str) -> Subscription:
    """Cancel ``now`` (open invoices not yet overdue are voided) or at ``period_end``."""
    from billing import stripe_gateway

    sub = current_subscription(client)
    if sub is None:
        raise BillingRejected(_("This client has no plan to cancel."))
    if when not in ("now", "period_end"):
        raise BillingRejected(_("Choose to cancel now or at the end of the period."))
    if when == "period_end":
        if sub.status != "active" or sub.current_period_end is None:
            raise BillingRejected(_("A plan that was never paid can only be cancelled now."))
        if sub.cancel_at_period_end:
            raise BillingRejected(_("This plan is already set to end with the period."))
        if sub.stripe_subscription_id:
            stripe_gateway.cancel_subscription(sub.stripe_subscription_id, at_period_end=True)
        sub.cancel_at_period_end, sub.next_plan_id = True, None
        void_upgrades(sub)
        _finish(client, "billing.plan_cancel_scheduled", {"period_end": sub.current_period_end.isoformat()})
        return sub
    if sub.stripe_subscription_id:
        stripe_gateway.cancel_subscription(sub.stripe_subscription_id, at_period_end=False)
    end_subscription(sub)
    _finish(client, "billing.plan_cancelled", {"plan_id": sub.plan_id})
    return sub


def end_subscription(sub: Subscription) -> None:
    """Mark ``sub`` cancelled now and void what it had not yet billed for."""
    sub.status, sub.cancelled_at, sub.next_plan_id = "cancelled", utcnow(), None
    _void_open(sub, kinds=("plan", "renewal"))
    void_upgrades(sub)


def keep_plan(client: Client) -> None:
    """Undo a cancellation set for the period's end."""
    sub = current_subscription(client)
    if sub is None or not sub.cancel_at_period_end:
        raise BillingRejected(_("This plan is not set to end."))
    if sub.stripe_subscription_id:
        raise BillingRejected(_("This subscription is managed in Stripe: resume it there."))
    sub.cancel_at_period_end = False
    _finish(client, "billing.plan_cancel_undone", {})


def _finish(client: Client, action: str, details: dict) -> None:
    db.session.flush()
    refresh_client_summary(client)
    audit.record(action, client, details=details)


def _money(cents: int) -> str:
    from core.formatting import money

    return money(cents)


# --- paying an invoice -------------------------------------------------------------


def settle(
    payment: Payment,
    payment_type: str,
    *,
    paid_at: datetime | None = None,
    reason: str = "",
    checkout_id: str | None = None,
) -> bool:
    """Record ``payment`` as paid and apply what paying it means. Idempotent: an
    invoice already paid is left alone (returns False).

    Money for an invoice that was voided (or an upgrade whose period is over) is
    recorded, but gives nothing: the finance staff are told to refund or apply it.
    """
    if payment.status == "paid":
        return False
    was_open = payment.status in Payment.OPEN
    payment.status = "paid"
    payment.payment_type = payment_type
    payment.paid_at = paid_at or utcnow()
    if checkout_id:
        payment.stripe_checkout_id = checkout_id
    client = db.session.get(Client, payment.client_id)
    sub = db.session.get(Subscription, payment.subscription_id) if payment.subscription_id else None
    effect = None
    if not was_open:
        effect = "none: the invoice was voided"
    elif sub is not None and payment.kind == "plan" and sub.status == "pending":
        start = _local_day(payment.paid_at)
        sub.status = "active"
        sub.current_period_start = start
        sub.current_period_end = add_months(start, PERIOD_MONTHS.get(sub.plan.period, 1))
        client.sessions_consumed = 0
        effect = "activated"
    elif payment.kind == "upgrade":
        if sub is not None and sub.status == "active" and _issued_this_period(payment, sub):
            sub.plan_id, sub.next_plan_id = payment.target_plan_id, None
            effect = "upgraded"
        else:
            effect = "none: the upgrade's period is over"
    db.session.flush()
    if sub is not None:
        db.session.refresh(sub)
    refresh_client_summary(client)
    audit.record(
        "billing.invoice_paid",
        client,
        details={"payment_id": payment.id, "payment_type": payment_type, "effect": effect},
    )
    if client.suspended and client.suspension_reason == "overdue":
        still_owing = db.session.scalar(
            select(Payment.id).where(Payment.client_id == client.id, Payment.status == "overdue").limit(1)
        )
        if still_owing is None:
            lift_suspension(client, reason or _("Debt paid"))
    if effect and effect.startswith("none"):
        notices.queue(client, "paid_without_effect", payment=payment, staff_only=True)
    else:
        notices.queue(client, "paid", payment=payment)
        if effect == "upgraded":
            notices.queue(client, "new_plan", plan=sub.plan)
    return True


def record_second_payment(payment: Payment, payment_type: str, checkout_id: str) -> None:
    """The client paid an invoice that was already paid (by transfer, or through an
    older Checkout): keep a trace and tell the finance staff, who refund it."""
    client = db.session.get(Client, payment.client_id)
    audit.record(
        "billing.paid_twice",
        client,
        details={"payment_id": payment.id, "payment_type": payment_type, "checkout": checkout_id},
    )
    notices.queue(client, "paid_twice", payment=payment, staff_only=True)


def _local_day(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date()


def _issued_this_period(payment: Payment, sub: Subscription) -> bool:
    start = sub.current_period_start
    return start is None or _local_day(payment.created_at or utcnow()) >= start

"""A client's plan over time: add, change, cancel.

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

What paying an invoice does lives in :mod:`billing.invoices` (``settle``); the
roll-over in :mod:`billing.renewals`. Every function changes rows of one client inside
the caller's transaction, keeps the client list's billing columns true
(``refresh_client_summary``) and audits. Bad requests raise :class:`BillingRejected`
before anything changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from billing import balance, invoices, notices, periods
from billing.errors import BillingRejected
from billing.models import PAYMENT_METHODS, PERIOD_MONTHS, Payment, Plan, Subscription
from billing.states import (
    UPGRADES,
    NoticeKind,
    PaymentKind,
    PaymentMethod,
    PlanChangeOutcome,
    SubscriptionStatus,
)
from billing.stripe import gateway as stripe_gateway
from billing.summary import current_subscription, refresh_client_summary
from core import audit
from core.extensions import db
from core.formatting import money
from core.timeutil import add_months, today_local, utcnow
from tenant.models import Client

__all__ = [
    "MAX_DAYS_AHEAD",
    "MIN_INVOICE_CENTS",
    "BillingRejected",
    "PlanChange",
    "Plan",
    "add_plan",
    "cancel_plan",
    "change_plan",
    "current_subscription",
    "end_subscription",
    "keep_plan",
    "mirror_stripe_subscription",
    "plan_change_outcome",
    "preview_change",
    "sync_from_stripe",
    "upgrade_amount",
]

MAX_DAYS_AHEAD = 366
CANCEL_WHEN = ("now", "period_end")


def _check_choice(client: Client, plan: Plan | None, method: str) -> None:
    if plan is None or plan.reseller_id != client.reseller_id:
        raise BillingRejected(_("Choose one of your plans."), param="plan_id")
    if plan.retired_at is not None:
        raise BillingRejected(_("This plan was retired; choose a plan that is offered."), param="plan_id")
    if method not in PAYMENT_METHODS:
        raise BillingRejected(_("Choose Stripe or manual payment."), param="method")
    if client.deleted_at is not None:
        raise BillingRejected(_("This client was deleted."))


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
        status=SubscriptionStatus.ACTIVE if active else SubscriptionStatus.PENDING,
        payment_method=method,
        current_period_start=today if active else None,
        current_period_end=due if active else None,
    )
    db.session.add(sub)
    db.session.flush()
    payment = invoices.issue(
        sub, kind=PaymentKind.PLAN, amount=plan.price_cents, due=due, description=plan.name
    )
    if active:
        balance.reset_period(client)
    refresh_client_summary(client)
    audit.record(
        "billing.plan_added",
        client,
        details={"plan_id": plan.id, "method": method, "due_date": due.isoformat(), "status": sub.status},
    )
    notices.queue(client, NoticeKind.NEW_PLAN, payment=payment, plan=plan)
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


@dataclass(frozen=True)
class PlanChange:
    """What choosing ``plan`` would do today: the outcome, and for an upgrade the
    amount to invoice, the old plan's credit and the days left."""

    outcome: PlanChangeOutcome
    amount: int = 0
    credit: int = 0
    days_left: int = 0


def plan_change_outcome(sub: Subscription, plan: Plan, today: date) -> PlanChange:
    """The one decision behind a plan change: used by :func:`change_plan` and by the
    panel's preview, so the preview says what the change does."""
    if plan.id == sub.plan_id:
        return PlanChange(PlanChangeOutcome.METHOD_CHANGED)
    if sub.status == SubscriptionStatus.PENDING:
        return PlanChange(PlanChangeOutcome.REPLACED, amount=plan.price_cents)
    if plan.period == sub.plan.period and plan.price_cents > sub.plan.price_cents:
        amount, credit, left = upgrade_amount(sub, plan, today)
        outcome = (
            PlanChangeOutcome.UPGRADED if amount < MIN_INVOICE_CENTS else PlanChangeOutcome.UPGRADE_INVOICED
        )
        return PlanChange(outcome, amount=amount, credit=credit, days_left=left)
    return PlanChange(PlanChangeOutcome.SCHEDULED)


def preview_change(
    client: Client, plan: Plan | None, method: str, *, today: date | None = None
) -> tuple[Subscription, PlanChange]:
    """What :func:`change_plan` would do, with its refusals, changing nothing (the
    panel's preview and the API's ``preview=true``)."""
    _check_choice(client, plan, method)
    sub = current_subscription(client)
    if sub is None:
        raise BillingRejected(_("This client has no plan yet. Add one."))
    if sub.stripe_subscription_id:
        raise BillingRejected(
            _("This subscription is managed in Stripe: cancel it and add the new plan here.")
        )
    return sub, plan_change_outcome(sub, plan, today or today_local())


def change_plan(
    client: Client, plan: Plan | None, method: str, *, today: date | None = None
) -> tuple[str, Payment | None]:
    """Change the plan (or only the payment type). Returns what happened
    (:class:`PlanChangeOutcome`) and the invoice issued, if any."""
    today = today or today_local()
    sub, change = preview_change(client, plan, method, today=today)
    details = {"from_plan_id": sub.plan_id, "to_plan_id": plan.id, "method": method}
    if change.outcome == PlanChangeOutcome.METHOD_CHANGED:
        if method == sub.payment_method and sub.next_plan_id is None:
            raise BillingRejected(_("The client already has this plan with this payment type."))
        sub.payment_method, sub.next_plan_id = method, None
        invoices.retype_open(sub, method)
        _finish(client, "billing.plan_method_changed", details)
        return change.outcome, None
    sub.payment_method = method
    if sub.cancel_at_period_end:
        # Another plan means the client stays: the cancellation is dropped, and said so.
        details["cancellation_undone"] = True
        sub.cancel_at_period_end = False
    if change.outcome == PlanChangeOutcome.REPLACED:
        # Not paid yet: the first invoice is replaced by one for the new plan.
        old_due = invoices.void_first_invoice(sub)
        periods.switch_plan(sub, plan.id)
        db.session.flush()
        db.session.refresh(sub)
        payment = invoices.issue(
            sub,
            kind=PaymentKind.PLAN,
            amount=plan.price_cents,
            due=max(old_due or today, today),
            description=plan.name,
        )
        _finish(client, "billing.plan_changed", details | {"outcome": change.outcome.value})
        notices.queue(client, NoticeKind.NEW_PLAN, payment=payment, plan=plan)
        return change.outcome, payment
    invoices.void_upgrades(sub)
    sub.next_plan_id = None
    if change.outcome in UPGRADES:
        if change.outcome == PlanChangeOutcome.UPGRADED:
            periods.switch_plan(sub, plan.id)
            db.session.flush()
            db.session.refresh(sub)
            _finish(client, "billing.plan_changed", details | {"outcome": change.outcome.value})
            notices.queue(client, NoticeKind.NEW_PLAN, plan=plan)
            return change.outcome, None
        payment = invoices.issue(
            sub,
            kind=PaymentKind.UPGRADE,
            amount=change.amount,
            due=today,
            target=plan,
            description=_(
                "Upgrade to %(plan)s: %(days)d days left, credit of %(credit)s",
                plan=plan.name,
                days=change.days_left,
                credit=money(change.credit),
            ),
        )
        _finish(
            client,
            "billing.plan_changed",
            details | {"outcome": change.outcome.value, "amount": change.amount},
        )
        return change.outcome, payment
    # A downgrade or another period: from the next period on.
    sub.next_plan_id = plan.id
    _finish(client, "billing.plan_changed", details | {"outcome": change.outcome.value})
    return change.outcome, None


def cancel_plan(client: Client, when: str) -> Subscription:
    """Cancel ``now`` (open invoices not yet overdue are voided) or at ``period_end``."""
    sub = current_subscription(client)
    if sub is None:
        raise BillingRejected(_("This client has no plan to cancel."))
    if when not in CANCEL_WHEN:
        raise BillingRejected(_("Choose to cancel now or at the end of the period."), param="when")
    if when == "period_end":
        if sub.status != SubscriptionStatus.ACTIVE or sub.current_period_end is None:
            raise BillingRejected(_("A plan that was never paid can only be cancelled now."))
        if sub.cancel_at_period_end:
            raise BillingRejected(_("This plan is already set to end with the period."))
        if sub.stripe_subscription_id:
            stripe_gateway.cancel_subscription(sub.stripe_subscription_id, at_period_end=True)
        sub.cancel_at_period_end, sub.next_plan_id = True, None
        invoices.void_upgrades(sub)
        _finish(client, "billing.plan_cancel_scheduled", {"period_end": sub.current_period_end.isoformat()})
        return sub
    if sub.stripe_subscription_id:
        stripe_gateway.cancel_subscription(sub.stripe_subscription_id, at_period_end=False)
    end_subscription(sub)
    _finish(client, "billing.plan_cancelled", {"plan_id": sub.plan_id})
    return sub


def end_subscription(sub: Subscription) -> None:
    """Mark ``sub`` cancelled now and void what it had not yet billed for."""
    sub.status, sub.cancelled_at, sub.next_plan_id = SubscriptionStatus.CANCELLED, utcnow(), None
    invoices.void_open(sub, kinds=(PaymentKind.PLAN, PaymentKind.RENEWAL))
    invoices.void_upgrades(sub)


def keep_plan(client: Client) -> None:
    """Undo a cancellation set for the period's end."""
    sub = current_subscription(client)
    if sub is None or not sub.cancel_at_period_end:
        raise BillingRejected(_("This plan is not set to end."))
    if sub.stripe_subscription_id:
        raise BillingRejected(_("This subscription is managed in Stripe: resume it there."))
    sub.cancel_at_period_end = False
    _finish(client, "billing.plan_cancel_undone", {})


# --- subscriptions that live in Stripe ---------------------------------------------


def mirror_stripe_subscription(
    client: Client, stripe_subscription_id: str, plan_id: int | None
) -> Subscription | None:
    """A new subscription mirroring one made in Stripe, on one of the reseller's plans
    (``None`` when the plan is not one of them)."""
    plan = (
        db.session.scalar(select(Plan).where(Plan.id == plan_id, Plan.reseller_id == client.reseller_id))
        if plan_id is not None
        else None
    )
    if plan is None:
        return None
    sub = Subscription(
        reseller_id=client.reseller_id,
        client_id=client.id,
        plan_id=plan_id,
        payment_method=PaymentMethod.STRIPE,
        stripe_subscription_id=stripe_subscription_id,
    )
    db.session.add(sub)
    return sub


def sync_from_stripe(
    client: Client,
    sub: Subscription,
    *,
    deleted: bool,
    live: bool,
    period_start: date | None,
    period_end: date | None,
) -> None:
    """Stripe says what its subscription is now: cancelled, live (active or trialing)
    or waiting; and its current period."""
    if deleted:
        sub.status = SubscriptionStatus.CANCELLED
    else:
        sub.status = SubscriptionStatus.ACTIVE if live else SubscriptionStatus.PENDING
    if period_start:
        sub.current_period_start = period_start
    if period_end:
        sub.current_period_end = period_end
    if deleted:
        sub.cancelled_at = utcnow()
    db.session.flush()
    refresh_client_summary(client)


def _finish(client: Client, action: str, details: dict) -> None:
    db.session.flush()
    refresh_client_summary(client)
    audit.record(action, client, details=details)

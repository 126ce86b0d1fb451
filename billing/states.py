"""The statuses of what the billing package stores and reads from Stripe.

Every status is a ``StrEnum``: members compare equal to the strings stored in the
database, so ``sub.status == SubscriptionStatus.ACTIVE`` and queries on the columns work
unchanged. Bare status strings belong here (and in ``tenant/states.py``) and nowhere else.
``payments.status`` is :class:`tenant.states.PaymentStatus` (the client list mirrors it),
re-exported here.
"""

from __future__ import annotations

from enum import StrEnum

from tenant.states import ClientStatus, PaymentStatus

__all__ = [
    "CHECKOUT_PAID_STATUSES",
    "NOT_OVERDUE_YET",
    "OPEN_PAYMENT_STATUSES",
    "OVERDUE_REASON",
    "STRIPE_LIVE_STATUSES",
    "CheckoutPaymentStatus",
    "CheckoutReturn",
    "NoticeKind",
    "PaymentMethod",
    "PackSource",
    "ClientStatus",
    "PaymentKind",
    "PaymentStatus",
    "PlanChangeOutcome",
    "StripeSubscriptionStatus",
    "SubscriptionStatus",
    "SuspensionAction",
    "UPGRADES",
]


class SubscriptionStatus(StrEnum):
    """``subscriptions.status``: pending until first paid (or a future due date)."""

    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"


# An invoice still waiting for money.
OPEN_PAYMENT_STATUSES = (PaymentStatus.PENDING, PaymentStatus.OVERDUE, PaymentStatus.FAILED)
# Open and not yet overdue (what cancelling now voids, what the sweep marks overdue).
NOT_OVERDUE_YET = (PaymentStatus.PENDING, PaymentStatus.FAILED)


class PaymentKind(StrEnum):
    """``payments.kind``: what paying the invoice does."""

    PLAN = "plan"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    EXTRA_PACK = "extra_pack"


class SuspensionAction(StrEnum):
    """``suspension_events.action``."""

    SUSPENDED = "suspended"
    REACTIVATED = "reactivated"


# ``clients.suspension_reason`` of the automatic suspension (lifted once the debt is paid).
OVERDUE_REASON = "overdue"


class StripeSubscriptionStatus(StrEnum):
    """A Stripe subscription's ``status`` as the webhooks read it (Stripe's spelling)."""

    ACTIVE = "active"
    TRIALING = "trialing"
    CANCELED = "canceled"


STRIPE_LIVE_STATUSES = (StripeSubscriptionStatus.ACTIVE, StripeSubscriptionStatus.TRIALING)


class CheckoutPaymentStatus(StrEnum):
    """A Stripe Checkout session's ``payment_status``."""

    PAID = "paid"
    NO_PAYMENT_REQUIRED = "no_payment_required"
    UNPAID = "unpaid"


CHECKOUT_PAID_STATUSES = (CheckoutPaymentStatus.PAID, CheckoutPaymentStatus.NO_PAYMENT_REQUIRED)


class PlanChangeOutcome(StrEnum):
    """What changing a client's plan does (``subscriptions.plan_change_outcome``)."""

    METHOD_CHANGED = "method_changed"  # same plan: only the payment type
    REPLACED = "replaced"  # a pending plan: its first invoice is replaced
    UPGRADE_INVOICED = "upgrade_invoiced"  # an invoice for the rest of the period
    UPGRADED = "upgraded"  # an upgrade with nothing worth invoicing: at once
    SCHEDULED = "scheduled"  # a downgrade or another period: from the next period


UPGRADES = (PlanChangeOutcome.UPGRADE_INVOICED, PlanChangeOutcome.UPGRADED)


class CheckoutReturn(StrEnum):
    """How the browser came back from Stripe Checkout (``?checkout=`` on the subscription page)."""

    DONE = "done"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    """``subscriptions.payment_method``: how the subscription's invoices are paid."""

    STRIPE = "stripe"
    MANUAL = "manual"


class PackSource(StrEnum):
    """``extra_packs.source``: who credited the pack."""

    STRIPE = "stripe"
    MANUAL = "manual"


class NoticeKind(StrEnum):
    """The finance e-mails (``billing.notices``)."""

    OVERDUE = "overdue"
    PAID = "paid"
    NEW_PLAN = "new_plan"
    PAID_WITHOUT_EFFECT = "paid_without_effect"
    PAID_TWICE = "paid_twice"

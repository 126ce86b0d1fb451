"""Plans, a client's subscription, payments and the suspension history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.states import OPEN_PAYMENT_STATUSES, PaymentKind, PaymentMethod, SubscriptionStatus
from core.extensions import db
from core.timeutil import utcnow

PERIODS = ("monthly", "quarterly", "yearly")
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
PAYMENT_METHODS = tuple(PaymentMethod)


class Plan(db.Model):
    """A plan a reseller sells: price in BRL cents, billing period, sessions per period."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("reseller_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), server_default="BRL", default="BRL")
    period: Mapped[str] = mapped_column(String(10), server_default="monthly")
    sessions_per_period: Mapped[int]
    stripe_price_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    # A stricter SLA policy for this plan's clients than their desks' (empty: the desk's).
    # The service desks own what it refers to (an sla_policies row of the same reseller):
    # desk rules check it when it is set and keep a policy a plan uses from being deleted.
    # No foreign key: on SQLite one cannot be added to plans without rebuilding the table,
    # and dropping plans then sets every client's plan_id to NULL (migration 0018).
    sla_policy_id: Mapped[int | None]


class Subscription(db.Model):
    """A client's plan: pending until first paid (or activated by a future due date)."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_client_status", "client_id", "status"),)

    STATUSES = tuple(SubscriptionStatus)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(12), server_default=SubscriptionStatus.PENDING.value)
    payment_method: Mapped[str] = mapped_column(String(10), server_default=PaymentMethod.MANUAL.value)
    current_period_start: Mapped[date | None]
    current_period_end: Mapped[date | None]
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    # Cancelled at the end of the current period (staff chose "at period end").
    cancel_at_period_end: Mapped[bool] = mapped_column(server_default=false(), default=False)
    # A downgrade waits for the next period; the roll-over switches to it.
    next_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))

    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    next_plan: Mapped[Plan | None] = relationship(foreign_keys=[next_plan_id])


class Payment(db.Model):
    """An amount a client owes or paid (invoice and its settlement).

    ``kind`` says what paying it does: ``plan`` (first invoice of a subscription:
    activates a pending one), ``renewal`` (a period's invoice), ``upgrade`` (switches
    the subscription to ``target_plan_id``) or ``extra_pack``.
    """

    KINDS = tuple(PaymentKind)
    OPEN = OPEN_PAYMENT_STATUSES

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_client_created", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(String(200), server_default="")
    amount_cents: Mapped[int]
    payment_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    due_date: Mapped[date]
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The Stripe invoice this payment mirrors (one payment per invoice).
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(
        String(12), server_default=PaymentKind.PLAN.value, default=PaymentKind.PLAN.value
    )
    target_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    # The latest Stripe Checkout opened to pay this invoice, and the payment that paid it.
    stripe_checkout_id: Mapped[str | None] = mapped_column(String(100), index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(100), index=True)


class SuspensionEvent(db.Model):
    """Append-only history of suspensions and reactivations of a client."""

    __tablename__ = "suspension_events"
    __table_args__ = (Index("ix_suspension_events_client", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(12))  # suspended | reactivated
    reason: Mapped[str] = mapped_column(String(200))
    actor_account_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StripeEvent(db.Model):
    """The webhook inbox: every verified Stripe event, written before the 2xx answer.

    The unique ``event_id`` makes duplicates harmless; ``processed_at`` is set by the
    job that applied it, and the sweeper finds rows a lost job left behind.
    """

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_pending", "processed_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(100))
    created: Mapped[int]  # Stripe's own timestamp of the event (seconds)
    payload: Mapped[str] = mapped_column(db.Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(server_default="0", default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class StripeObjectMark(db.Model):
    """Per Stripe object, the newest event applied: an older one arriving late is
    skipped instead of undoing a newer state (out-of-order delivery)."""

    __tablename__ = "stripe_object_marks"

    object_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_event_created: Mapped[int]
    last_event_id: Mapped[str] = mapped_column(String(100))


class ExtraPack(db.Model):
    """Extra conversations credited to a client; a Stripe checkout credits once."""

    __tablename__ = "extra_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    conversations: Mapped[int]
    source: Mapped[str] = mapped_column(String(10))  # stripe | manual
    stripe_checkout_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    actor_account_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

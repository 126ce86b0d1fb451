"""Plans, a client's subscription, payments and the suspension history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow

PERIODS = ("monthly", "quarterly", "yearly")
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
PAYMENT_METHODS = ("stripe", "manual")


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


class Subscription(db.Model):
    """A client's plan: pending until first paid (or activated by a future due date)."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_client_status", "client_id", "status"),)

    STATUSES = ("pending", "active", "cancelled")

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(12), server_default="pending")
    payment_method: Mapped[str] = mapped_column(String(10), server_default="manual")
    current_period_start: Mapped[date | None]
    current_period_end: Mapped[date | None]
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship()


class Payment(db.Model):
    """An amount a client owes or paid (invoice and its settlement)."""

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

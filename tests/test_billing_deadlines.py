"""Time-driven billing: overdue invoices, suspension after the grace days, period
roll-over with renewal invoices; each sweep idempotent."""

from __future__ import annotations

from datetime import date, datetime

import time_machine
from sqlalchemy import func, select

from billing.models import Payment, Subscription, SuspensionEvent
from billing.tasks import sweep_deadlines
from core import jobs
from core.extensions import db
from core.timeutil import add_months
from tenant.models import Client


def test_add_months_keeps_the_day_or_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def open_invoice(app, client_id: int, due: date) -> int:
    with app.app_context():
        client = db.session.get(Client, client_id)
        payment = Payment(
            reseller_id=client.reseller_id,
            client_id=client.id,
            amount_cents=9990,
            payment_type="boleto",
            status="pending",
            due_date=due,
        )
        db.session.add(payment)
        db.session.commit()
        return payment.id


def test_an_unpaid_invoice_becomes_overdue_then_suspends_after_the_grace_days(app, factory, tenants, ctx):
    client = factory.client(tenants.a.id, trade_name="Atrasada")
    open_invoice(app, client.id, date(2026, 11, 10))
    assert sweep_deadlines(date(2026, 11, 10))["overdue"] == 0  # due today: not late yet
    result = sweep_deadlines(date(2026, 11, 11))
    assert result["overdue"] == 1 and result["suspended"] == 0  # inside the 5 grace days
    with app.app_context():
        assert db.session.get(Client, client.id).payment_status == "overdue"
    assert sweep_deadlines(date(2026, 11, 15))["suspended"] == 0  # the 5th day still counts
    assert sweep_deadlines(date(2026, 11, 16))["suspended"] == 1
    assert sweep_deadlines(date(2026, 11, 17))["suspended"] == 0  # already suspended
    with app.app_context():
        client_row = db.session.get(Client, client.id)
        assert client_row.suspended and client_row.suspension_reason == "overdue"
        events = db.session.scalar(
            select(func.count()).select_from(SuspensionEvent).where(SuspensionEvent.client_id == client.id)
        )
        assert events == 1


def test_a_manual_period_rolls_over_resetting_sessions_and_issuing_a_renewal(app, factory, tenants, ctx):
    plan = factory.plan(tenants.a.id, name="Mensal", sessions=100, price_cents=15000)
    client = factory.client(
        tenants.a.id, trade_name="Renova", plan_id=plan.id, due_date=date(2026, 12, 1), consumed=70, extras=20
    )
    assert sweep_deadlines(date(2026, 11, 30))["rolled_over"] == 0
    with time_machine.travel(datetime(2026, 12, 1, 15, 0), tick=False):
        # This client and the two of the tenants fixture, whose periods also end today.
        assert sweep_deadlines()["rolled_over"] == 3
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client.id))
        assert (sub.current_period_start, sub.current_period_end) == (date(2026, 12, 1), date(2027, 1, 1))
        row = db.session.get(Client, client.id)
        assert (row.sessions_consumed, row.extra_balance, row.sessions_remaining) == (0, 20, 120)
        assert row.due_date == date(2027, 1, 1)
        renewal = db.session.scalars(
            select(Payment).where(Payment.client_id == client.id, Payment.due_date == date(2026, 12, 1))
        ).all()
        assert len(renewal) == 1 and renewal[0].amount_cents == 15000 and renewal[0].status == "pending"
    assert sweep_deadlines(date(2026, 12, 1))["rolled_over"] == 0  # idempotent
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.client_id == client.id, Payment.due_date == date(2026, 12, 1))
            )
            == 1
        )


def test_the_sweep_is_a_declared_periodic_job_and_a_cli(runner_app):
    assert jobs.PERIODIC["billing.deadlines.sweep_deadlines"] == 600
    result = runner_app.invoke(args=["billing", "sweep-deadlines"])
    assert result.exit_code == 0 and "rolled_over" in result.output

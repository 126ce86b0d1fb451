"""A client's plan over time, from the reseller panel: add (due-date rule), change
(prorated upgrade effective on payment, downgrade at the period's end), cancel (now or
at the period's end), with the client list's columns and the finance e-mails."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from auth import permissions as perm
from billing import subscriptions
from billing.models import Payment, Subscription
from billing.tasks import sweep_deadlines
from core.extensions import db
from core.models import AuditEvent
from tenant.models import Client

TODAY = datetime(2026, 11, 21, 13, 0)  # 10:00 in São Paulo


@pytest.fixture
def plans(factory, tenants):
    basic = factory.plan(tenants.a.id, name="Básico", sessions=100, price_cents=9990)
    pro = factory.plan(tenants.a.id, name="Pro", sessions=300, price_cents=19990)
    yearly = factory.plan(tenants.a.id, name="Anual", sessions=100, price_cents=99900, period="yearly")
    return basic, pro, yearly


@pytest.fixture
def clock():
    """The tests run on 2026-11-21 (staff sessions are time-bound: log in after moving)."""
    traveller = time_machine.travel(TODAY, tick=False)
    coordinates = traveller.start()
    yield coordinates
    traveller.stop()


@pytest.fixture
def owner(clock, browser, tenants):
    browser.login("owner@a.test")
    return browser


@pytest.fixture
def bare(factory, tenants):
    """A client of reseller A without any plan."""
    return factory.client(tenants.a.id, trade_name="Sem Plano")


def row(app, client_id) -> Client:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge(client)
        return client


def sub_of(app, client_id) -> Subscription | None:
    with app.app_context():
        sub = db.session.scalar(
            select(Subscription)
            .where(Subscription.client_id == client_id, Subscription.status != "cancelled")
            .order_by(Subscription.id.desc())
        )
        if sub is not None:
            db.session.expunge(sub)
        return sub


def invoices(app, client_id) -> list[Payment]:
    with app.app_context():
        rows = db.session.scalars(
            select(Payment).where(Payment.client_id == client_id).order_by(Payment.id)
        ).all()
        for p in rows:
            db.session.expunge(p)
        return rows


def base(client_id) -> str:
    return f"/reseller/clients/{client_id}"


def test_a_due_date_of_today_keeps_the_plan_pending_until_the_invoice_is_paid(
    app, clock, owner, bare, plans, mailbox, run_jobs
):
    basic = plans[0]
    with time_machine.travel(TODAY, tick=False):
        answer = owner.post(
            f"{base(bare.id)}/plan", {"plan_id": basic.id, "method": "manual", "due_date": "2026-11-21"}
        )
        assert answer.status_code == 302
    sub = sub_of(app, bare.id)
    assert sub.status == "pending" and sub.current_period_end is None
    client = row(app, bare.id)
    assert (client.status, client.plan_name, client.sessions_quota) == ("without_plan", "Básico", 0)
    (invoice,) = invoices(app, bare.id)
    assert (invoice.kind, invoice.amount_cents, invoice.due_date, invoice.status) == (
        "plan",
        9990,
        date(2026, 11, 21),
        "pending",
    )
    assert client.payment_status == "pending" and client.payment_type == "transfer"
    run_jobs()
    # The new-plan notice reaches the owner (finance e-mails) and the responsible user.
    assert mailbox.to("owner@a.test") and "Básico" in mailbox.to(bare.email)[0]["text"]

    clock.move_to(datetime(2026, 11, 23, 15, 0))
    owner.login("owner@a.test")
    owner.post(f"{base(bare.id)}/payments/{invoice.id}/paid", {"method": "cash"})
    sub = sub_of(app, bare.id)
    assert sub.status == "active"
    assert (sub.current_period_start, sub.current_period_end) == (date(2026, 11, 23), date(2026, 12, 23))
    client = row(app, bare.id)
    assert (client.status, client.sessions_quota, client.due_date) == ("active", 100, date(2026, 12, 23))
    assert (client.payment_status, client.payment_type, client.last_payment_date) == (
        "paid",
        "cash",
        date(2026, 11, 23),
    )


def test_a_future_due_date_activates_now_and_bills_on_that_date_once(app, owner, bare, plans):
    basic = plans[0]
    with time_machine.travel(TODAY, tick=False):
        owner.post(
            f"{base(bare.id)}/plan", {"plan_id": basic.id, "method": "stripe", "due_date": "05/12/2026"}
        )
    sub = sub_of(app, bare.id)
    assert sub.status == "active"
    assert (sub.current_period_start, sub.current_period_end) == (date(2026, 11, 21), date(2026, 12, 5))
    client = row(app, bare.id)
    assert (client.status, client.sessions_quota, client.due_date) == ("active", 100, date(2026, 12, 5))
    (invoice,) = invoices(app, bare.id)
    assert (invoice.due_date, invoice.payment_type) == (date(2026, 12, 5), "stripe")
    # On the due date the next period starts; the first invoice is that period's bill.
    with app.app_context():
        sweep_deadlines(date(2026, 12, 5))
    sub = sub_of(app, bare.id)
    assert (sub.current_period_start, sub.current_period_end) == (date(2026, 12, 5), date(2027, 1, 5))
    assert [p.due_date for p in invoices(app, bare.id)] == [date(2026, 12, 5)]


@pytest.mark.parametrize(
    ("due", "message"),
    [("2026-11-20", "não pode estar no passado"), ("31/02/2026", "dd/mm/aaaa"), ("2028-01-01", "um ano")],
)
def test_a_bad_due_date_is_refused_and_changes_nothing(app, owner, bare, plans, due, message):
    with time_machine.travel(TODAY, tick=False):
        page = owner.post(
            f"{base(bare.id)}/plan",
            {"plan_id": plans[0].id, "method": "manual", "due_date": due},
            follow_redirects=True,
        ).get_data(as_text=True)
    assert message in page
    assert sub_of(app, bare.id) is None and invoices(app, bare.id) == []


def test_another_resellers_plan_or_a_retired_one_cannot_be_added(app, owner, bare, tenants, plans):
    page = owner.post(
        f"{base(bare.id)}/plan", {"plan_id": tenants.b.plan.id, "method": "manual"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Escolha um dos seus planos" in page and sub_of(app, bare.id) is None
    owner.post(f"/reseller/plans/{plans[1].id}/retire")
    page = owner.post(
        f"{base(bare.id)}/plan", {"plan_id": plans[1].id, "method": "manual"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "foi retirado" in page and sub_of(app, bare.id) is None


def test_staff_without_client_invoices_cannot_touch_plans(app, factory, tenants, bare, plans, make_browser):
    """(Real time: no clock needed.)"""
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clerk@a.test")
    clerk = make_browser()
    clerk.login(staff.email if hasattr(staff, "email") else "clerk@a.test")
    assert (
        clerk.post(f"{base(bare.id)}/plan", {"plan_id": plans[0].id, "method": "manual"}).status_code == 403
    )
    assert clerk.post(f"{base(tenants.a.client.id)}/plan/cancel", {"when": "now"}).status_code == 403
    assert sub_of(app, bare.id) is None


@pytest.fixture
def on_basic(app, factory, tenants, plans):
    """A client on Básico (R$ 99,90) for 2026-11-01 .. 2026-12-01 (30 days), paid."""
    return factory.client(
        tenants.a.id,
        trade_name="Cliente Básico",
        plan_id=plans[0].id,
        payment_status="paid",
        due_date=date(2026, 12, 1),
        consumed=40,
    )


def test_an_upgrade_is_prorated_by_days_and_takes_effect_when_paid(app, owner, on_basic, plans):
    pro = plans[1]
    with time_machine.travel(TODAY, tick=False):  # 10 of 30 days left
        preview = owner.get(f"{base(on_basic.id)}/plan/preview?plan_id={pro.id}").get_data(as_text=True)
        answer = owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": pro.id, "method": "manual"})
    assert answer.status_code == 302
    credit, charge = round(9990 * 10 / 30), round(19990 * 10 / 30)
    upgrade = [p for p in invoices(app, on_basic.id) if p.kind == "upgrade"]
    assert len(upgrade) == 1 and upgrade[0].amount_cents == charge - credit == 3333
    assert upgrade[0].due_date == date(2026, 11, 21) and upgrade[0].target_plan_id == pro.id
    assert "R$\xa033,33" in preview or "R$ 33,33" in preview
    # Not paid yet: still Básico.
    client = row(app, on_basic.id)
    assert (client.plan_name, client.sessions_quota) == ("Básico", 100)
    with time_machine.travel(TODAY, tick=False):
        owner.post(f"{base(on_basic.id)}/payments/{upgrade[0].id}/paid", {"method": "transfer"})
    client = row(app, on_basic.id)
    assert (client.plan_name, client.sessions_quota, client.sessions_consumed) == ("Pro", 300, 40)
    assert client.due_date == date(2026, 12, 1)  # the due date does not move
    sub = sub_of(app, on_basic.id)
    assert sub.plan_id == pro.id and sub.current_period_end == date(2026, 12, 1)


def test_a_second_upgrade_voids_the_first_unpaid_one(app, factory, tenants, owner, on_basic, plans):
    top = factory.plan(tenants.a.id, name="Top", sessions=900, price_cents=49990)
    with time_machine.travel(TODAY, tick=False):
        owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": plans[1].id, "method": "manual"})
        owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": top.id, "method": "manual"})
    upgrades = [(p.target_plan_id, p.status) for p in invoices(app, on_basic.id) if p.kind == "upgrade"]
    assert upgrades == [(plans[1].id, "cancelled"), (top.id, "pending")]
    assert row(app, on_basic.id).payment_status == "pending"


def test_a_downgrade_or_another_period_waits_for_the_period_end(
    app, clock, owner, factory, tenants, on_basic, plans
):
    cheap = factory.plan(tenants.a.id, name="Mini", sessions=20, price_cents=4990)
    with time_machine.travel(TODAY, tick=False):
        owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": cheap.id, "method": "manual"})
    assert [p.kind for p in invoices(app, on_basic.id)] == ["plan"]  # nothing billed now
    assert sub_of(app, on_basic.id).next_plan_id == cheap.id
    assert row(app, on_basic.id).plan_name == "Básico"
    with app.app_context():
        sweep_deadlines(date(2026, 12, 1))
    client = row(app, on_basic.id)
    assert (client.plan_name, client.sessions_quota, client.sessions_consumed) == ("Mini", 20, 0)
    renewal = [p for p in invoices(app, on_basic.id) if p.kind == "renewal"]
    assert [(p.amount_cents, p.due_date) for p in renewal] == [(4990, date(2026, 12, 1))]
    # A yearly plan is another period: also from the next period, not prorated.
    clock.move_to(datetime(2026, 12, 10, 13))
    owner.login("owner@a.test")
    owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": plans[2].id, "method": "manual"})
    assert sub_of(app, on_basic.id).next_plan_id == plans[2].id


def test_changing_a_pending_plan_replaces_its_first_invoice(app, owner, bare, plans):
    with time_machine.travel(TODAY, tick=False):
        owner.post(
            f"{base(bare.id)}/plan", {"plan_id": plans[0].id, "method": "manual", "due_date": "2026-11-21"}
        )
        owner.post(f"{base(bare.id)}/plan/change", {"plan_id": plans[1].id, "method": "stripe"})
    first, second = invoices(app, bare.id)
    assert (first.status, second.status, second.amount_cents, second.payment_type) == (
        "cancelled",
        "pending",
        19990,
        "stripe",
    )
    assert row(app, bare.id).plan_name == "Pro" and sub_of(app, bare.id).status == "pending"


def test_cancel_now_ends_the_plan_and_voids_bills_not_yet_due_but_keeps_debt(app, owner, on_basic):
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == on_basic.id))
        for due, status in ((date(2026, 10, 1), "overdue"), (date(2026, 12, 1), "pending")):
            db.session.add(
                Payment(
                    reseller_id=sub.reseller_id,
                    client_id=sub.client_id,
                    subscription_id=sub.id,
                    amount_cents=9990,
                    payment_type="transfer",
                    status=status,
                    due_date=due,
                    kind="renewal",
                )
            )
        db.session.commit()
    owner.post(f"{base(on_basic.id)}/plan/cancel", {"when": "now"})
    assert sub_of(app, on_basic.id) is None
    client = row(app, on_basic.id)
    assert (client.status, client.plan_name, client.sessions_quota) == ("without_plan", None, 0)
    statuses = {p.due_date: p.status for p in invoices(app, on_basic.id) if p.kind == "renewal"}
    assert statuses == {date(2026, 10, 1): "overdue", date(2026, 12, 1): "cancelled"}


def test_cancel_at_period_end_stops_the_roll_over_and_can_be_undone(app, owner, on_basic, tenants):
    owner.post(f"{base(on_basic.id)}/plan/cancel", {"when": "period_end"})
    assert sub_of(app, on_basic.id).cancel_at_period_end
    assert row(app, on_basic.id).status == "active"  # until the period ends
    owner.post(f"{base(on_basic.id)}/plan/keep")
    assert not sub_of(app, on_basic.id).cancel_at_period_end
    owner.post(f"{base(on_basic.id)}/plan/cancel", {"when": "period_end"})
    with app.app_context():
        sweep_deadlines(date(2026, 12, 1))
    assert sub_of(app, on_basic.id) is None
    assert row(app, on_basic.id).status == "without_plan"
    assert [p.kind for p in invoices(app, on_basic.id)] == ["plan"]  # no renewal was issued


def test_choosing_another_plan_drops_a_cancellation_set_for_the_period_end_and_says_so(
    app, owner, on_basic, plans
):
    owner.post(f"{base(on_basic.id)}/plan/cancel", {"when": "period_end"})
    preview = owner.get(f"{base(on_basic.id)}/plan/preview?plan_id={plans[2].id}").get_data(as_text=True)
    assert "cancelamento marcado para o fim do período é desfeito" in preview
    page = owner.post(
        f"{base(on_basic.id)}/plan/change",
        {"plan_id": plans[2].id, "method": "manual"},
        follow_redirects=True,
    )
    assert "cancelamento marcado para o fim do período é desfeito" in page.get_data(as_text=True)
    sub = sub_of(app, on_basic.id)
    assert not sub.cancel_at_period_end and sub.next_plan_id == plans[2].id
    with app.app_context():
        details = db.session.scalar(
            select(AuditEvent.details)
            .where(AuditEvent.client_id == on_basic.id, AuditEvent.action == "billing.plan_changed")
            .order_by(AuditEvent.id.desc())
        )
    assert details["cancellation_undone"] is True


def test_cancelling_a_stripe_subscription_calls_stripe_and_a_failure_changes_nothing(
    app, owner, tenants, fake_stripe
):
    client_id = tenants.a.client.id
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client_id))
        sub.stripe_subscription_id, sub.payment_method = "sub_live_A", "stripe"
        db.session.commit()
    fake_stripe.fail_with = 400
    page = owner.post(f"{base(client_id)}/plan/cancel", {"when": "now"}, follow_redirects=True)
    assert "não respondeu" in page.get_data(as_text=True)
    assert sub_of(app, client_id).status == "active"
    fake_stripe.fail_with = None
    fake_stripe.requests.clear()
    owner.post(f"{base(client_id)}/plan/cancel", {"when": "period_end"})
    assert fake_stripe.calls("POST", "/v1/subscriptions/sub_live_A")[-1]["params"] == {
        "cancel_at_period_end": "true"
    }
    assert sub_of(app, client_id).cancel_at_period_end
    owner.post(f"{base(client_id)}/plan/cancel", {"when": "now"})
    assert len(fake_stripe.calls("DELETE", "/v1/subscriptions/sub_live_A")) == 1
    assert sub_of(app, client_id) is None


def test_the_billing_page_offers_add_or_change_and_cancel(app, owner, bare, on_basic, plans):
    add_page = owner.get(f"{base(bare.id)}/billing").get_data(as_text=True)
    assert 'id="plan-add-form"' in add_page and 'id="plan-change-form"' not in add_page
    page = owner.get(f"{base(on_basic.id)}/billing").get_data(as_text=True)
    assert 'id="plan-change-form"' in page and 'id="plan-cancel-form"' in page


def test_overdue_and_paid_notices_reach_finance_staff_and_the_responsible_user(
    app, factory, tenants, owner, bare, plans, mailbox, run_jobs
):
    factory.staff(tenants.a.id, permissions=[perm.FINANCE_EMAILS], email="fin@a.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clerk@a.test")
    with time_machine.travel(TODAY, tick=False):
        owner.post(
            f"{base(bare.id)}/plan", {"plan_id": plans[0].id, "method": "manual", "due_date": "2026-11-21"}
        )
    run_jobs()
    mailbox.clear()
    with app.app_context():
        assert sweep_deadlines(date(2026, 11, 22))["overdue"] == 1
    run_jobs()
    to_fin, to_client = mailbox.to("fin@a.test"), mailbox.to(bare.email)
    assert len(to_fin) == 1 and "Fatura vencida" in to_fin[0]["subject"]
    assert len(to_client) == 1 and "R$" in to_client[0]["text"] and "21/11/2026" in to_client[0]["text"]
    assert mailbox.to("clerk@a.test") == []
    mailbox.clear()
    (invoice,) = invoices(app, bare.id)
    owner.post(f"{base(bare.id)}/payments/{invoice.id}/paid", {"method": "transfer"})
    run_jobs()
    assert "Pagamento recebido" in mailbox.to("fin@a.test")[0]["subject"]
    assert len(mailbox.to(bare.email)) == 1


def test_a_rolled_back_change_sends_no_notice(app, tenants, bare, plans, mailbox, run_jobs):
    with app.app_context():
        client = db.session.get(Client, bare.id)
        plan = db.session.get(subscriptions.Plan, plans[0].id)
        subscriptions.add_plan(client, plan, "manual", None)
        db.session.rollback()
        assert (
            db.session.scalar(
                select(func.count()).select_from(Subscription).where(Subscription.client_id == bare.id)
            )
            == 0
        )
    run_jobs()
    assert mailbox.to(bare.email) == []


def test_an_unpaid_upgrade_is_voided_at_the_period_end_and_paying_it_late_changes_nothing(
    app, owner, on_basic, plans, mailbox, run_jobs
):
    owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": plans[1].id, "method": "manual"})
    with app.app_context():
        sweep_deadlines(date(2026, 11, 25))  # the upgrade went overdue
    upgrade = [p for p in invoices(app, on_basic.id) if p.kind == "upgrade"][0]
    assert upgrade.status == "overdue"
    with app.app_context():
        sweep_deadlines(date(2026, 12, 1))  # the period it belonged to is over
    upgrade = [p for p in invoices(app, on_basic.id) if p.kind == "upgrade"][0]
    assert upgrade.status == "cancelled"
    assert not row(app, on_basic.id).suspended  # never suspended for an upgrade not given


def test_an_overdue_upgrade_is_voided_by_the_next_change(app, owner, factory, tenants, on_basic, plans):
    owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": plans[1].id, "method": "manual"})
    with app.app_context():
        sweep_deadlines(date(2026, 11, 25))
    cheap = factory.plan(tenants.a.id, name="Mini", sessions=20, price_cents=4990)
    owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": cheap.id, "method": "manual"})
    assert [p.status for p in invoices(app, on_basic.id) if p.kind == "upgrade"] == ["cancelled"]


def test_a_tiny_upgrade_takes_effect_without_an_invoice(app, owner, factory, tenants, on_basic):
    plus = factory.plan(tenants.a.id, name="Básico+", sessions=110, price_cents=10090)  # R$ 1,00 more
    owner.post(f"{base(on_basic.id)}/plan/change", {"plan_id": plus.id, "method": "manual"})
    assert [p.kind for p in invoices(app, on_basic.id)] == ["plan"]
    assert row(app, on_basic.id).plan_name == "Básico+"


def test_an_upgrade_is_prorated_over_the_plans_own_period_even_after_a_long_first_one(
    app, owner, bare, plans
):
    """A monthly plan added with its first due date months ahead: the upgrade is priced
    on the month that ends on the due date, not on the whole stretch."""
    owner.post(
        f"{base(bare.id)}/plan", {"plan_id": plans[0].id, "method": "manual", "due_date": "2027-03-01"}
    )
    owner.post(f"{base(bare.id)}/plan/change", {"plan_id": plans[1].id, "method": "manual"})
    (upgrade,) = [p for p in invoices(app, bare.id) if p.kind == "upgrade"]
    # Feb 2027 has 28 days, and the whole of it is left: the full monthly difference.
    assert upgrade.amount_cents == 19990 - 9990


def test_a_failed_payment_becomes_overdue_after_the_due_date(app, owner, bare, plans):
    owner.post(
        f"{base(bare.id)}/plan", {"plan_id": plans[0].id, "method": "stripe", "due_date": "2026-11-30"}
    )
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.client_id == bare.id))
        payment.status = "failed"  # the client's PIX code expired
        db.session.commit()
        sweep_deadlines(date(2026, 12, 1))
    assert invoices(app, bare.id)[0].status == "overdue"

"""The workspace's subscription page: paying an invoice and buying extra conversations
through Stripe Checkout (card, boleto, PIX), one Stripe customer per client, and the
webhook being the only thing that marks anything paid."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account
from billing import subscriptions
from billing.models import ExtraPack, Payment, Subscription
from core.extensions import db
from core.models import AuditEvent, Reseller
from tenant.models import Client
from tests.test_stripe_webhooks import event, post

ATTEMPT = "0123456789abcdef" * 2  # the one-time token the page puts in each form


@pytest.fixture
def pending(app, factory, tenants):
    """A client whose plan (Stripe) waits for its first invoice, and its responsible user."""
    plan = factory.plan(tenants.a.id, name="Essencial", sessions=50, price_cents=14990)
    client = factory.client(tenants.a.id, trade_name="Nova Loja")
    with app.app_context():
        row = db.session.get(Client, client.id)
        subscriptions.add_plan(row, db.session.get(subscriptions.Plan, plan.id), "stripe", None)
        db.session.commit()
        payment_id = db.session.scalar(select(Payment.id).where(Payment.client_id == client.id))
    client.payment_id = payment_id
    return client


@pytest.fixture
def user(make_browser, pending):
    browser = make_browser()
    browser.login(pending.email)
    return browser


def payment_row(app, payment_id) -> Payment:
    with app.app_context():
        row = db.session.get(Payment, payment_id)
        db.session.expunge(row)
        return row


def test_a_client_without_an_active_plan_sees_its_invoice_and_can_pay_it(app, user, pending, fake_stripe):
    assert user.get("/app/").headers["Location"] == "/app/subscription"
    page = user.get("/app/subscription").get_data(as_text=True)
    assert 'id="without-plan"' in page and f'data-payment-id="{pending.payment_id}"' in page
    assert "pay-form" in page

    answer = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    (customer,) = fake_stripe.calls("POST", "/v1/customers")
    assert customer["params"]["metadata[client_id]"] == str(pending.id)
    (checkout,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    params = checkout["params"]
    assert params["payment_method_types[0]"] == "pix" and params["mode"] == "payment"
    assert params["line_items[0][price_data][unit_amount]"] == "14990"
    assert params["line_items[0][price_data][currency]"] == "brl"
    assert params["metadata[kind]"] == "invoice" and params["metadata[payment_id]"] == str(pending.payment_id)
    assert checkout["key"]  # an idempotency key: a double click makes one Checkout
    # Coming back from Checkout marks nothing paid.
    user.get("/app/subscription?checkout=done")
    assert payment_row(app, pending.payment_id).status == "pending"
    # A second payment reuses the client's Stripe customer.
    user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "boleto", "attempt": ATTEMPT}
    )
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    with app.app_context():
        assert db.session.get(Client, pending.id).stripe_customer_id.startswith("cus_fake")


def test_pix_paid_later_activates_the_plan_once(app, user, pending, fake_stripe, settle):
    user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT})
    session_id = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]
    obj = {
        "id": "cs_test_pix_1",
        "object": "checkout.session",
        "payment_status": "unpaid",
        "metadata": {
            "kind": "invoice",
            "payment_id": str(pending.payment_id),
            "client_id": str(pending.id),
            "method": "pix",
        },
    }
    assert session_id
    http = app.test_client()
    assert post(http, event("checkout.session.completed", obj)).status_code == 200
    settle()
    payment = payment_row(app, pending.payment_id)
    assert (payment.status, payment.payment_type) == ("pending", "pix")  # the QR code was issued only
    paid = event("checkout.session.async_payment_succeeded", obj | {"payment_status": "paid"})
    for _ in range(3):
        assert post(http, paid).status_code == 200
    settle()
    payment = payment_row(app, pending.payment_id)
    assert (payment.status, payment.payment_type) == ("paid", "pix")
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == pending.id))
        client = db.session.get(Client, pending.id)
        assert sub.status == "active" and client.status == "active" and client.sessions_quota == 50
        paid_events = db.session.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.client_id == pending.id, Payment.status == "paid")
        )
        assert paid_events == 1


def test_a_failed_boleto_marks_the_invoice_failed(app, pending, settle):
    obj = {
        "id": "cs_test_boleto_1",
        "object": "checkout.session",
        "metadata": {"kind": "invoice", "payment_id": str(pending.payment_id), "client_id": str(pending.id)},
    }
    post(app.test_client(), event("checkout.session.async_payment_failed", obj))
    settle()
    assert payment_row(app, pending.payment_id).status == "failed"


def test_a_checkout_for_another_clients_invoice_changes_nothing(app, pending, tenants, settle):
    obj = {
        "id": "cs_test_cross",
        "object": "checkout.session",
        "payment_status": "paid",
        "metadata": {
            "kind": "invoice",
            "payment_id": str(pending.payment_id),
            "client_id": str(tenants.b.client.id),
        },
    }
    post(app.test_client(), event("checkout.session.completed", obj))
    settle()
    assert payment_row(app, pending.payment_id).status == "pending"


def test_only_the_responsible_user_or_billing_permission_may_pay(
    app, factory, pending, make_browser, fake_stripe
):
    other = factory.user(pending.id, email="atendente@nova.test")
    browser = make_browser()
    browser.login(other.email)
    page = browser.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" not in page
    assert (
        browser.post(
            f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "card", "attempt": ATTEMPT}
        ).status_code
        == 403
    )
    with app.app_context():
        db.session.get(Account, other.id).permissions = [perm.BILLING]
        db.session.commit()
    answer = browser.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "card", "attempt": ATTEMPT}
    )
    assert answer.status_code == 303 and fake_stripe.calls("POST", "/v1/checkout/sessions")


def test_another_clients_invoice_is_a_404(app, user, tenants, fake_stripe):
    with app.app_context():
        foreign = db.session.scalar(select(Payment.id).where(Payment.client_id == tenants.a.client.id))
    assert (
        user.post(
            f"/app/subscription/invoices/{foreign}/pay", {"method": "pix", "attempt": ATTEMPT}
        ).status_code
        == 404
    )
    assert fake_stripe.requests == []


def test_without_stripe_configured_paying_says_so_and_changes_nothing(app, user, pending):
    page = user.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" not in page
    answer = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT}
    )
    assert answer.status_code == 303
    assert "pagamentos online" in user.get("/app/subscription").get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.get(Client, pending.id).stripe_customer_id is None


def test_a_stripe_failure_shows_a_message_and_stores_no_customer(app, user, pending, fake_stripe):
    fake_stripe.fail_with = 400
    answer = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/app/subscription"
    with app.app_context():
        assert db.session.get(Client, pending.id).stripe_customer_id is None


def test_extra_conversations_bought_through_stripe_are_credited_once(
    app, factory, tenants, make_browser, fake_stripe, settle
):
    with app.app_context():
        reseller = db.session.get(Reseller, tenants.a.id)
        reseller.extra_pack_conversations, reseller.extra_pack_price_cents = 100, 4990
        db.session.commit()
    client = tenants.a.client
    browser = make_browser()
    browser.login(client.email)
    assert 'id="buy-extras"' in browser.get("/app/subscription").get_data(as_text=True)
    assert (
        browser.post(
            "/app/subscription/extras", {"packs": "11", "method": "pix", "attempt": ATTEMPT}
        ).status_code
        == 303
    )
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []  # 11 packs: refused
    browser.post("/app/subscription/extras", {"packs": "3", "method": "card", "attempt": ATTEMPT})
    (checkout,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert checkout["params"]["line_items[0][price_data][unit_amount]"] == "14970"
    assert checkout["params"]["metadata[conversations]"] == "300"
    before = db_extra(app, client.id)
    obj = {
        "id": "cs_test_extras_1",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": 14970,
        "metadata": {
            "kind": "extra_pack",
            "client_id": str(client.id),
            "conversations": "300",
            "method": "card",
        },
    }
    http = app.test_client()
    post(http, event("checkout.session.completed", obj))
    post(http, event("checkout.session.completed", obj))  # Stripe sent it again, new event id
    settle()
    assert db_extra(app, client.id) == before + 300
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(ExtraPack).where(ExtraPack.client_id == client.id)
            )
            == 1
        )
        receipt = db.session.scalar(select(Payment).where(Payment.stripe_checkout_id == "cs_test_extras_1"))
        assert (receipt.kind, receipt.status, receipt.amount_cents) == ("extra_pack", "paid", 14970)


def test_extra_packs_are_not_sold_when_the_reseller_set_no_price(app, tenants, make_browser, fake_stripe):
    browser = make_browser()
    browser.login(tenants.a.client.email)
    assert 'id="buy-extras"' not in browser.get("/app/subscription").get_data(as_text=True)
    assert (
        browser.post(
            "/app/subscription/extras", {"packs": "1", "method": "pix", "attempt": ATTEMPT}
        ).status_code
        == 404
    )


def test_the_reseller_sets_the_pack_on_the_plans_page(app, browser, tenants):
    browser.login("owner@a.test")
    browser.post("/reseller/plans/extra-pack", {"conversations": "250", "price": "89,90"})
    with app.app_context():
        reseller = db.session.get(Reseller, tenants.a.id)
        assert (reseller.extra_pack_conversations, reseller.extra_pack_price_cents) == (250, 8990)
    browser.post("/reseller/plans/extra-pack", {"conversations": "0", "price": "abc"})
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).extra_pack_conversations == 250


def db_extra(app, client_id) -> int:
    with app.app_context():
        return db.session.get(Client, client_id).extra_balance


def test_paying_an_overdue_upgrade_does_not_move_the_due_date(app, factory, tenants, settle):
    """invoice.paid for an invoice Stripe issued keeps working through the same rule."""
    client_id = tenants.a.client.id
    with app.app_context():
        due = db.session.get(Client, client_id).due_date
    obj = {
        "id": "in_extra_1",
        "object": "invoice",
        "metadata": {"client_id": str(client_id)},
        "amount_due": 5000,
        "status_transitions": {"paid_at": 1795000000},
    }
    post(app.test_client(), event("invoice.paid", obj))
    settle()
    with app.app_context():
        assert db.session.get(Client, client_id).due_date == due == date(2026, 12, 1)
        assert (
            db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_extra_1"))
            == "paid"
        )


def checkout_paid(pending, session_id: str, payment_id: int, *, intent: str | None = None) -> dict:
    return event(
        "checkout.session.completed",
        {
            "id": session_id,
            "object": "checkout.session",
            "payment_status": "paid",
            "payment_intent": intent,
            "metadata": {
                "kind": "invoice",
                "payment_id": str(payment_id),
                "client_id": str(pending.id),
                "method": "card",
            },
        },
    )


def test_money_for_a_voided_invoice_is_recorded_but_changes_no_plan(
    app, factory, tenants, pending, settle, mailbox, run_jobs
):
    """The client paid an old Checkout of a first invoice staff replaced meanwhile."""
    bigger = factory.plan(tenants.a.id, name="Avançado", sessions=500, price_cents=39990)
    with app.app_context():
        client = db.session.get(Client, pending.id)
        subscriptions.change_plan(client, db.session.get(subscriptions.Plan, bigger.id), "stripe")
        db.session.commit()
    run_jobs()
    mailbox.clear()
    post(app.test_client(), checkout_paid(pending, "cs_old", pending.payment_id))
    settle()
    run_jobs()
    old = payment_row(app, pending.payment_id)
    assert old.status == "paid"
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == pending.id))
        new_invoice = db.session.scalar(
            select(Payment).where(Payment.client_id == pending.id, Payment.id != pending.payment_id)
        )
        assert sub.status == "pending" and sub.plan_id == bigger.id and new_invoice.status == "pending"
    assert any("anulada" in m["subject"] for m in mailbox.to("owner@a.test"))
    assert all("anulada" not in m["subject"] for m in mailbox.to(pending.email))


def test_an_invoice_paid_by_transfer_then_through_checkout_is_flagged_twice(
    app, browser, pending, settle, mailbox, run_jobs
):
    browser.login("owner@a.test")
    browser.post(f"/reseller/clients/{pending.id}/payments/{pending.payment_id}/paid", {"method": "transfer"})
    run_jobs()
    mailbox.clear()
    post(app.test_client(), checkout_paid(pending, "cs_late", pending.payment_id))
    settle()
    run_jobs()
    assert payment_row(app, pending.payment_id).payment_type == "transfer"
    assert any("paga duas vezes" in m["subject"] for m in mailbox.to("owner@a.test"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "billing.paid_twice")) == 1


def test_a_refunded_extra_pack_takes_back_the_unused_conversations(app, tenants, settle):
    client = tenants.a.client
    obj = {
        "id": "cs_pack_refund",
        "object": "checkout.session",
        "payment_status": "paid",
        "payment_intent": "pi_pack_1",
        "amount_total": 4990,
        "metadata": {
            "kind": "extra_pack",
            "client_id": str(client.id),
            "conversations": "100",
            "method": "pix",
        },
    }
    http = app.test_client()
    before = db_extra(app, client.id)
    post(http, event("checkout.session.completed", obj))
    settle()
    assert db_extra(app, client.id) == before + 100
    refund = {"id": "ch_pack_1", "object": "charge", "payment_intent": "pi_pack_1"}
    post(http, event("charge.refunded", refund))
    post(http, event("charge.refunded", refund))  # sent again: taken back once
    settle()
    assert db_extra(app, client.id) == before
    with app.app_context():
        assert db.session.scalar(
            select(Payment.status).where(Payment.stripe_payment_intent_id == "pi_pack_1")
        ) == ("refunded")


def test_a_transfer_invoice_cannot_be_sent_to_checkout(app, factory, tenants, make_browser, fake_stripe):
    with app.app_context():
        payment_id = db.session.scalar(select(Payment.id).where(Payment.client_id == tenants.a.client.id))
        db.session.get(Payment, payment_id).status = "pending"
        db.session.get(Payment, payment_id).payment_type = "transfer"
        db.session.commit()
    browser = make_browser()
    browser.login(tenants.a.client.email)
    browser.post(f"/app/subscription/invoices/{payment_id}/pay", {"method": "pix", "attempt": ATTEMPT})
    assert fake_stripe.requests == []


def test_a_new_visit_to_the_page_gets_a_new_checkout_but_a_double_click_does_not(
    app, user, pending, fake_stripe
):
    first = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT}
    )
    again = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": ATTEMPT}
    )
    assert first.headers["Location"] == again.headers["Location"]
    fresh = "f" * 32
    other = user.post(
        f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix", "attempt": fresh}
    )
    assert other.headers["Location"] != first.headers["Location"]
    assert (
        user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix"}).status_code
        == 303
    )
    assert len({r["key"] for r in fake_stripe.calls("POST", "/v1/checkout/sessions")}) == 2

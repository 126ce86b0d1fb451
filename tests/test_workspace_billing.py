"""The workspace's subscription page: paying an invoice and buying extra conversations
through Stripe Checkout (card, boleto, PIX), one Stripe customer per client, and the
webhook being the only thing that marks anything paid."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from billing.models import ExtraPack, Payment, Subscription
from core.extensions import db
from core.models import Reseller
from tenant.models import Client
from tests.test_stripe_webhooks import event, post


@pytest.fixture
def pending(app, factory, tenants):
    """A client whose plan (Stripe) waits for its first invoice, and its responsible user."""
    plan = factory.plan(tenants.a.id, name="Essencial", sessions=50, price_cents=14990)
    client = factory.client(tenants.a.id, trade_name="Nova Loja")
    with app.app_context():
        from billing import subscriptions

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

    answer = user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix"})
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
    user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "boleto"})
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    with app.app_context():
        assert db.session.get(Client, pending.id).stripe_customer_id.startswith("cus_fake")


def test_pix_paid_later_activates_the_plan_once(app, user, pending, fake_stripe, settle):
    user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix"})
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
        browser.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "card"}).status_code
        == 403
    )
    with app.app_context():
        from auth.models import Account

        db.session.get(Account, other.id).permissions = [perm.BILLING]
        db.session.commit()
    answer = browser.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "card"})
    assert answer.status_code == 303 and fake_stripe.calls("POST", "/v1/checkout/sessions")


def test_another_clients_invoice_is_a_404(app, user, tenants, fake_stripe):
    with app.app_context():
        foreign = db.session.scalar(select(Payment.id).where(Payment.client_id == tenants.a.client.id))
    assert user.post(f"/app/subscription/invoices/{foreign}/pay", {"method": "pix"}).status_code == 404
    assert fake_stripe.requests == []


def test_without_stripe_configured_paying_says_so_and_changes_nothing(app, user, pending):
    page = user.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" not in page
    answer = user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix"})
    assert answer.status_code == 303
    assert "pagamentos online" in user.get("/app/subscription").get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.get(Client, pending.id).stripe_customer_id is None


def test_a_stripe_failure_shows_a_message_and_stores_no_customer(app, user, pending, fake_stripe):
    fake_stripe.fail_with = 400
    answer = user.post(f"/app/subscription/invoices/{pending.payment_id}/pay", {"method": "pix"})
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
    assert browser.post("/app/subscription/extras", {"packs": "11", "method": "pix"}).status_code == 303
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []  # 11 packs: refused
    browser.post("/app/subscription/extras", {"packs": "3", "method": "card"})
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
    assert browser.post("/app/subscription/extras", {"packs": "1", "method": "pix"}).status_code == 404


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

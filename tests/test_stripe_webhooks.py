"""Stripe webhooks (QUALITY "Billing and jobs"): signature on the raw body, inbox row
before the 2xx, processing as a job, idempotent per event and per object, out of
order, Redis down, PostgreSQL down. Payloads are real signed requests."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from billing.models import ExtraPack, Payment, StripeEvent, Subscription
from billing.stripe import inbox, intake
from billing.suspension import suspend
from core import create_app, jobs
from core.extensions import db
from core.jobs import get_queue, get_redis
from core.models import AuditEvent, Reseller
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.models import Client
from tests.conftest import STRIPE_WEBHOOK_SECRET
from tests.stripe_fake import stripe_event, stripe_signature


def signed(payload: dict, *, secret: str = STRIPE_WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, stripe_signature(body, secret, at=at)


event = stripe_event


def post(http, payload: dict, **kw):
    body, header = signed(payload, **kw)
    return http.post(
        "http://a.test/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def inbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StripeEvent))


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def stripe_client(app, factory, tenants):
    """Client A with a Stripe subscription sub_A and an overdue invoice in_A."""
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client.id))
        sub.stripe_subscription_id = "sub_A"
        sub.payment_method = "stripe"
        db.session.add(
            Payment(
                reseller_id=client.reseller_id,
                client_id=client.id,
                subscription_id=sub.id,
                amount_cents=9990,
                payment_type="card",
                status="overdue",
                due_date=date(2026, 11, 1),
                stripe_invoice_id="in_A",
            )
        )
        suspend(client, "overdue", overdue=True)
        db.session.commit()
    return tenants.a.client.id


def test_bad_missing_or_stale_signatures_are_400_and_store_nothing(app, http, tenants):
    payload = event("invoice.paid", {"id": "in_x", "object": "invoice"})
    body, _header = signed(payload)
    assert http.post("http://a.test/webhooks/stripe", data=body).status_code == 400
    assert post(http, payload, secret="whsec_wrong").status_code == 400
    assert post(http, payload, at=int(time.time()) - 301).status_code == 400
    tampered_body, header = signed(payload)
    tampered = tampered_body.replace(b"in_x", b"in_y")
    response = http.post("http://a.test/webhooks/stripe", data=tampered, headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert inbox_count(app) == 0


def test_invoice_paid_is_stored_then_applied_and_lifts_the_overdue_suspension(
    app, http, stripe_client, settle
):
    payload = event(
        "invoice.paid",
        {
            "id": "in_A",
            "object": "invoice",
            "subscription": "sub_A",
            "status_transitions": {"paid_at": 1795000000},
        },
    )
    response = post(http, payload)
    assert response.status_code == 200
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.event_id == payload["id"] and json.loads(row.payload)["type"] == "invoice.paid"
    settle()
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.processed_at is not None and row.outcome == "payment paid"
        payment = db.session.scalar(select(Payment).where(Payment.stripe_invoice_id == "in_A"))
        client = db.session.get(Client, stripe_client)
        assert payment.status == "paid" and client.payment_status == "paid"
        assert client.suspended is False
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "billing.invoice.paid"))


def test_the_same_event_again_is_stored_once_and_applied_once(app, http, stripe_client, settle):
    payload = event(
        "checkout.session.completed",
        {
            "id": "cs_1",
            "object": "checkout.session",
            "payment_status": "paid",
            "metadata": {"client_id": str(stripe_client), "kind": "extra_pack", "conversations": "100"},
        },
    )
    for _ in range(3):
        assert post(http, payload).status_code == 200
    # A second event for the same checkout (Stripe retried with a new id): still one credit.
    again = event("checkout.session.completed", payload["data"]["object"])
    assert post(http, again).status_code == 200
    settle()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 2
        assert db.session.scalar(select(func.count()).select_from(ExtraPack)) == 1
        assert db.session.get(Client, stripe_client).extra_balance == 100


def test_out_of_order_subscription_events_end_in_the_newest_state(app, http, tenants, factory, settle):
    client = factory.client(tenants.a.id, trade_name="Stripe Nova")
    plan = tenants.a.plan
    base = {
        "id": "sub_B",
        "object": "subscription",
        "metadata": {"client_id": str(client.id), "plan_id": str(plan.id)},
    }
    now = int(time.time())
    updated = event(
        "customer.subscription.updated",
        {**base, "status": "active", "current_period_start": now, "current_period_end": now + 30 * 86400},
        created=now,
    )
    created = event("customer.subscription.created", {**base, "status": "incomplete"}, created=now - 60)
    assert post(http, updated).status_code == 200
    settle()
    assert post(http, created).status_code == 200
    settle()
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.stripe_subscription_id == "sub_B"))
        assert sub.status == "active"
        assert db.session.get(Client, client.id).status == "active"
        outcomes = db.session.scalars(select(StripeEvent.outcome).order_by(StripeEvent.id)).all()
        assert outcomes == ["subscription active", "stale"]


def test_a_refund_delivered_before_its_payment_is_applied_after_it(app, http, stripe_client, settle):
    paid_at = int(time.time()) - 60
    refund = event(
        "charge.refunded", {"id": "ch_R", "object": "charge", "invoice": "in_R"}, created=paid_at + 30
    )
    post(http, refund)
    settle()
    with app.app_context():
        row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == refund["id"]))
        assert row.processed_at is None and "not known yet" in row.last_error  # waits, is not lost
    paid = {"id": "in_R", "object": "invoice", "subscription": "sub_A", "charge": "ch_R"}
    post(http, event("invoice.paid", paid, created=paid_at))
    settle()
    with app.app_context():
        assert (
            db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_R")) == "refunded"
        )
        assert db.session.get(Client, stripe_client).payment_status == "refunded"
    # invoice.paid sent again after the refund does not turn the payment back to paid.
    post(http, event("invoice.paid", paid, created=paid_at))
    settle()
    with app.app_context():
        assert (
            db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_R")) == "refunded"
        )


def test_refunds_and_failures_update_the_payment(app, http, stripe_client, settle):
    post(
        http,
        event("invoice.paid", {"id": "in_A", "object": "invoice", "subscription": "sub_A", "charge": "ch_A"}),
    )
    settle()
    post(http, event("charge.refunded", {"id": "ch_A", "object": "charge", "invoice": "in_A"}))
    settle()
    with app.app_context():
        assert (
            db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_A")) == "refunded"
        )
        assert db.session.get(Client, stripe_client).payment_status == "refunded"
    post(
        http,
        event(
            "invoice.payment_failed",
            {"id": "in_B", "object": "invoice", "subscription": "sub_A", "amount_due": 500},
        ),
    )
    settle()
    with app.app_context():
        assert (
            db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_B")) == "failed"
        )


def test_with_redis_down_the_event_is_kept_and_the_sweeper_applies_it(
    app, http, stripe_client, runner_app, monkeypatch, caplog
):
    # Nothing listens there; the cached connection is dropped so the app reconnects to it.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delitem(app.extensions, "redis", raising=False)
    payload = event("invoice.paid", {"id": "in_A", "object": "invoice", "subscription": "sub_A"})
    assert post(http, payload).status_code == 200
    assert "Redis unreachable" in caplog.text
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.processed_at is None
    monkeypatch.undo()
    result = runner_app.invoke(args=["billing", "replay"])
    assert "Applied 1" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(StripeEvent.outcome)) == "payment paid"
        assert db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_A")) == "paid"


@pytest.mark.real_commits
def test_with_the_database_down_the_answer_is_5xx_without_details(app):
    down = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PROPAGATE_EXCEPTIONS": False,  # answer as production does, not raise in the test
        }
    )
    body, header = signed(event("invoice.paid", {"id": "in_z", "object": "invoice"}))
    response = down.test_client().post(
        "http://a.test/webhooks/stripe", data=body, headers={"Stripe-Signature": header}
    )
    assert response.status_code >= 500
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "psycopg" not in text and "OperationalError" not in text


@pytest.mark.real_commits
def test_five_concurrent_deliveries_of_one_event_have_one_effect(app, run_jobs):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency is checked on PostgreSQL")

    with app.test_request_context("/", base_url="http://conc-stripe.test"):
        reseller, _login = create_reseller(
            name="Concorrência Stripe",
            host="conc-stripe.test",
            owner_email="dono@conc-stripe.test",
            require_staff_2fa=False,
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Pacotes",
            legal_name="Pacotes Ltda",
            email="pacotes@x.test",
            document_type="cnpj",
            document=make_cnpj(99),
        )
        db.session.add(client)
        db.session.commit()
        reseller_id, client_id = reseller.id, client.id
    payload = event(
        "checkout.session.completed",
        {
            "id": "cs_conc",
            "object": "checkout.session",
            "payment_status": "paid",
            "metadata": {"client_id": str(client_id), "kind": "extra_pack", "conversations": "50"},
        },
    )
    barrier = threading.Barrier(5)
    codes = []

    def deliver():
        http = app.test_client()
        body, header = signed(payload)
        barrier.wait()
        codes.append(
            http.post(
                "http://conc-stripe.test/webhooks/stripe", data=body, headers={"Stripe-Signature": header}
            ).status_code
        )

    try:
        threads = [threading.Thread(target=deliver) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run_jobs()
        assert codes == [200] * 5
        with app.app_context():
            assert (
                db.session.scalar(
                    select(func.count()).select_from(StripeEvent).where(StripeEvent.event_id == payload["id"])
                )
                == 1
            )
            assert (
                db.session.scalar(
                    select(func.count()).select_from(ExtraPack).where(ExtraPack.client_id == client_id)
                )
                == 1
            )
            assert db.session.get(Client, client_id).extra_balance == 50
    finally:
        with app.app_context():
            db.session.execute(delete(StripeEvent).where(StripeEvent.event_id == payload["id"]))
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


def test_reconcile_stores_and_applies_the_events_the_inbox_missed(
    app, http, stripe_client, runner_app, fake_stripe
):
    """Events Stripe has but our inbox lacks (a delivery never arrived) are fetched,
    stored and applied; events already in the inbox are not stored twice."""
    seen = event("invoice.payment_failed", {"id": "in_A", "object": "invoice", "subscription": "sub_A"})
    assert post(http, seen).status_code == 200
    missed = event("invoice.paid", {"id": "in_A", "object": "invoice", "subscription": "sub_A"})
    missed["created"] = seen["created"] + 5
    ignored = event("customer.created", {"id": "cus_X", "object": "customer"})
    fake_stripe.events = [missed, ignored, seen]
    result = runner_app.invoke(args=["billing", "reconcile", "--days", "2"])
    assert "1 event(s) were missing" in result.output, result.output
    (listing,) = fake_stripe.calls("GET", "/v1/events")
    assert int(listing["params"]["created[gte]"]) > 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 2
        assert db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_A")) == "paid"


def test_a_burst_queues_one_waiting_drain_job_that_applies_every_event(app, http, stripe_client, run_jobs):
    """Intake costs one Redis SET per event under load: while a drain job waits, new
    events join it; once it has started, the next event queues another."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ is only used when REDIS_URL is set (PostgreSQL + Redis suite)")

    queue = get_queue(app, "billing")
    meta = {"client_id": str(stripe_client)}
    for n in range(5):
        obj = {"id": f"in_burst_{n}", "object": "invoice", "metadata": meta, "amount_due": 100}
        assert post(http, event("invoice.payment_action_required", obj)).status_code == 200
    assert queue.count == 1
    run_jobs()
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(StripeEvent.processed_at.is_(None))) == 0
        assert (
            db.session.scalar(select(func.count()).where(Payment.stripe_invoice_id.like("in_burst_%"))) == 5
        )
    obj = {"id": "in_burst_late", "object": "invoice", "metadata": meta, "amount_due": 100}
    post(http, event("invoice.payment_action_required", obj))
    assert queue.count == 1  # the first drain started (and released its flag): a new one waits
    run_jobs()
    with app.app_context():
        assert db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_burst_late"))


def test_invoice_paid_twice_under_new_event_ids_has_one_effect(
    app, http, stripe_client, settle, mailbox, run_jobs
):
    """Stripe may send invoice.paid again with another event id: the invoice is paid
    once, the suspension lifted once, one audit entry and one finance notice."""
    obj = {
        "id": "in_A",
        "object": "invoice",
        "subscription": "sub_A",
        "status_transitions": {"paid_at": 1795000000},
    }
    first = event("invoice.paid", obj)
    again = event("invoice.paid", obj, created=first["created"])
    assert post(http, first).status_code == 200 and post(http, again).status_code == 200
    settle()
    run_jobs()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 2
        assert db.session.scalar(select(Payment.status).where(Payment.stripe_invoice_id == "in_A")) == "paid"
        paid = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "billing.invoice_paid")
        )
        lifted = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "client.suspension_lifted")
        )
        assert (paid, lifted) == (1, 1)
        client = db.session.get(Client, stripe_client)
        assert not client.suspended and client.payment_status == "paid"
    assert len([m for m in mailbox.to("owner@a.test") if "Pagamento recebido" in m["subject"]]) == 1


def test_an_invoice_of_a_clients_stripe_customer_is_matched_by_customer(app, http, tenants, settle):
    client_id = tenants.a.client.id
    with app.app_context():
        db.session.get(Client, client_id).stripe_customer_id = "cus_A"
        db.session.commit()
    obj = {"id": "in_by_customer", "object": "invoice", "customer": "cus_A", "amount_due": 2500}
    post(http, event("invoice.payment_failed", obj))
    settle()
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.stripe_invoice_id == "in_by_customer"))
        assert (payment.client_id, payment.status, payment.amount_cents) == (client_id, "failed", 2500)


@pytest.mark.real_commits
def test_an_event_stored_while_a_drain_is_seen_waiting_is_applied_by_that_drain(app, monkeypatch):
    """Web processes that saw the drain waiting do not ask Redis again for a moment;
    the drain reads the inbox once more after that moment, so nothing waits for the sweep."""
    if not app.config.get("REDIS_URL") or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("RQ coalescing is checked in the PostgreSQL + Redis suite")

    monkeypatch.setattr(jobs, "UNIQUE_LOCAL_WINDOW", 1.5)  # room for the test's steps
    redis = get_redis(app)
    payload = event("invoice.payment_action_required", {"id": "in_window", "object": "invoice"})
    try:
        http = app.test_client()
        redis.set(jobs._unique_flag(intake.DRAIN_KEY), "1")
        jobs.forget_waiting(app)
        first = event("invoice.payment_action_required", {"id": "in_first", "object": "invoice"})
        body, header = signed(first)
        http.post("http://a.test/webhooks/stripe", data=body, headers={"Stripe-Signature": header})
        assert jobs._seen_waiting_recently(app, intake.DRAIN_KEY)  # it saw a drain waiting
        done = []

        def run_drain() -> None:
            with app.app_context():
                done.append(inbox.drain())
                db.session.remove()

        drainer = threading.Thread(target=run_drain)
        drainer.start()
        for _ in range(100):  # the drain has started: its flag is gone
            if not redis.exists(jobs._unique_flag(intake.DRAIN_KEY)):
                break
            time.sleep(0.01)
        queued_before = len(get_queue(app, "billing"))
        body, header = signed(payload)
        assert (
            http.post(
                "http://a.test/webhooks/stripe", data=body, headers={"Stripe-Signature": header}
            ).status_code
            == 200
        )
        assert len(get_queue(app, "billing")) == queued_before  # no Redis call, no new drain
        drainer.join(10)
        with app.app_context():
            row = db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == payload["id"]))
            assert row.processed_at is not None  # the drain's last pass applied it
    finally:
        with app.app_context():
            db.session.execute(
                delete(StripeEvent).where(StripeEvent.event_id.in_([payload["id"], first["id"]]))
            )
            db.session.commit()
        redis.flushdb()

"""A client's billing page: suspend and reactivate with a reason (history kept),
extra-conversation packs, manual payments lifting an overdue suspension."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from auth import permissions as perm
from billing.models import ExtraPack, Payment, SuspensionEvent
from billing.suspension import suspend
from core.extensions import db
from tenant.models import Client


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def billing_url(tenants) -> str:
    return f"/reseller/clients/{tenants.a.client.id}/billing"


def client_row(app, client_id: int) -> Client:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge(client)
        return client


def test_the_page_shows_plan_sessions_payments_and_history(owner, tenants):
    page = owner.get(billing_url(tenants)).get_data(as_text=True)
    assert "Plano A" in page and 'id="sessions-remaining"' in page
    assert "data-payment-id" in page and "Nunca suspenso" in page


def test_suspend_and_reactivate_with_a_reason_kept_in_the_history(app, owner, tenants, make_browser):
    user = make_browser()
    user.login(tenants.a.client.email)
    refused = owner.post(f"{billing_url(tenants)[:-8]}/suspend", {"reason": ""}, follow_redirects=True)
    assert "Escreva o motivo" in refused.get_data(as_text=True)
    assert client_row(app, tenants.a.client.id).suspended is False
    owner.post(f"{billing_url(tenants)[:-8]}/suspend", {"reason": "Contrato em revisão"})
    client = client_row(app, tenants.a.client.id)
    assert client.suspended and client.suspension_reason == "Contrato em revisão"
    assert 'id="suspended-banner"' in user.get("/app/").get_data(as_text=True)
    owner.post(f"{billing_url(tenants)[:-8]}/unsuspend", {"reason": "Revisão concluída"})
    assert client_row(app, tenants.a.client.id).suspended is False
    with app.app_context():
        events = db.session.scalars(
            select(SuspensionEvent.action, SuspensionEvent.reason).where(
                SuspensionEvent.client_id == tenants.a.client.id
            )
        ).all()
        rows = db.session.execute(
            select(SuspensionEvent.action, SuspensionEvent.reason)
            .where(SuspensionEvent.client_id == tenants.a.client.id)
            .order_by(SuspensionEvent.id)
        ).all()
    assert events and [tuple(r) for r in rows] == [
        ("suspended", "Contrato em revisão"),
        ("reactivated", "Revisão concluída"),
    ]
    assert "Revisão concluída" in owner.get(billing_url(tenants)).get_data(as_text=True)


def test_extra_packs_add_to_the_balance_with_the_permission(app, owner, factory, tenants, make_browser):
    before = client_row(app, tenants.a.client.id).extra_balance
    owner.post(f"{billing_url(tenants)[:-8]}/extra-packs", {"conversations": "250"})
    assert client_row(app, tenants.a.client.id).extra_balance == before + 250
    bad = owner.post(
        f"{billing_url(tenants)[:-8]}/extra-packs", {"conversations": "0"}, follow_redirects=True
    )
    assert "de 1 a 100.000" in bad.get_data(as_text=True)
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem-extras@a.test")
    other = make_browser()
    other.login(staff.email)
    assert other.post(f"{billing_url(tenants)[:-8]}/extra-packs", {"conversations": "10"}).status_code == 403
    assert 'id="extra-pack-form"' not in other.get(billing_url(tenants)).get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(ExtraPack.conversations).where(ExtraPack.client_id == tenants.a.client.id)
            )
            == 250
        )
    assert client_row(app, tenants.a.client.id).extra_balance == before + 250


def test_a_manual_payment_marks_the_invoice_paid_and_lifts_an_overdue_suspension(app, owner, tenants):
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        payment = Payment(
            reseller_id=client.reseller_id,
            client_id=client.id,
            amount_cents=9990,
            payment_type="boleto",
            status="overdue",
            due_date=date(2026, 10, 1),
        )
        db.session.add(payment)
        suspend(client, "overdue", overdue=True)
        db.session.commit()
        payment_id = payment.id
    bad = owner.post(
        f"{billing_url(tenants)[:-8]}/payments/{payment_id}/paid",
        {"method": "bitcoin"},
        follow_redirects=True,
    )
    assert "Escolha transferência ou dinheiro" in bad.get_data(as_text=True)
    owner.post(f"{billing_url(tenants)[:-8]}/payments/{payment_id}/paid", {"method": "transfer"})
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.status == "paid" and payment.payment_type == "transfer" and payment.paid_at is not None
    client = client_row(app, tenants.a.client.id)
    assert client.suspended is False and client.payment_status == "paid"
    again = owner.post(
        f"{billing_url(tenants)[:-8]}/payments/{payment_id}/paid", {"method": "cash"}, follow_redirects=True
    )
    assert "Só uma fatura em aberto" in again.get_data(as_text=True)


def test_another_resellers_client_and_payment_are_404(owner, tenants, app):
    with app.app_context():
        b_payment = db.session.scalar(select(Payment.id).where(Payment.client_id == tenants.b.client.id))
    assert owner.get(f"/reseller/clients/{tenants.b.client.id}/billing").status_code == 404
    assert (
        owner.post(f"/reseller/clients/{tenants.b.client.id}/suspend", {"reason": "abc"}).status_code == 404
    )
    assert (
        owner.post(
            f"/reseller/clients/{tenants.a.client.id}/payments/{b_payment}/paid", {"method": "cash"}
        ).status_code
        == 404
    )

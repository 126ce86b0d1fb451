"""The subscription page's plan, resources and contracts (issue 15): the current period
and its sessions per day (equal to a direct count over the session windows, in Brazil's
days), the reseller's offered plans and contacts for a client without a plan, how to pay
without Stripe, who may pay, and an impersonating staff member seeing what the user sees."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from auth import permissions as perm
from billing import subscriptions
from billing.models import Payment, Plan, Subscription
from core.extensions import db
from core.models import Reseller
from core.timeutil import LOCAL_TZ, add_months, today_local, utcnow
from tenant.inbox_models import Contact, SessionWindow
from tenant.models import Client
from tenant.states import WindowSource
from tenant.windows import local_midnight_utc

BAR = re.compile(r'<g class="day" data-day="([0-9-]+)" data-count="([0-9]+)"')
TABLE_ROW = re.compile(
    r'<tr data-day="([0-9-]+)"><th scope="row" class="fw-normal">[^<]*</th><td class="num">([0-9]+)<'
)


def set_contacts(app, reseller_id: int, **contacts) -> None:
    with app.app_context():
        reseller = db.session.get(Reseller, reseller_id)
        for name, value in contacts.items():
            setattr(reseller, name, value)
        db.session.commit()


@pytest.fixture
def period(app, tenants):
    """Client A's period started 12 local days ago; windows on both sides of its first
    local midnight, on a few days, today, tomorrow; other clients' windows beside them."""
    today = today_local()
    start = today - timedelta(days=12)
    client_id = tenants.a.client.id
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client_id))
        sub.current_period_start, sub.current_period_end = start, add_months(start, 1)
        first = local_midnight_utc(start)
        opened = [
            first - timedelta(minutes=1),  # the day before the period, in Brazil
            first,  # its first local minute (03:00 UTC)
            first + timedelta(hours=23, minutes=59),  # still its first local day
            local_midnight_utc(start + timedelta(days=3)) + timedelta(hours=1),
            local_midnight_utc(start + timedelta(days=3)) + timedelta(hours=22),
            local_midnight_utc(start + timedelta(days=3)) + timedelta(hours=22, minutes=30),
            local_midnight_utc(start + timedelta(days=7)) - timedelta(seconds=1),  # day 6's last second
            local_midnight_utc(today),
            local_midnight_utc(today + timedelta(days=1)),  # tomorrow: not in the chart
        ]
        for client in (db.session.get(Client, client_id), db.session.get(Client, tenants.b.client.id)):
            contact = Contact(
                reseller_id=client.reseller_id, client_id=client.id, name="Contato", phone="+5511987650000"
            )
            db.session.add(contact)
            db.session.flush()
            for at in opened if client.id == client_id else opened[:4]:
                db.session.add(
                    SessionWindow(
                        reseller_id=client.reseller_id,
                        client_id=client.id,
                        contact_id=contact.id,
                        source=WindowSource.PLAN,
                        opened_at=at,
                        expires_at=at + timedelta(hours=24),
                    )
                )
        db.session.commit()
    return start, today


def direct_count(app, client_id, start, today) -> dict[str, int]:
    """Every local day of the period so far, and the windows opened on it, counted here
    in Python from the rows (each naive-UTC instant turned into its Brazilian day)."""
    with app.app_context():
        instants = db.session.scalars(
            select(SessionWindow.opened_at).where(SessionWindow.client_id == client_id)
        )
        local_days = Counter(at.replace(tzinfo=UTC).astimezone(LOCAL_TZ).date() for at in instants)
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    return {day.isoformat(): local_days.get(day, 0) for day in days}


def test_the_sessions_per_day_equal_a_direct_count_over_the_windows(app, make_browser, tenants, period):
    start, today = period
    user = make_browser()
    user.login(tenants.a.client.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    expected = direct_count(app, tenants.a.client.id, start, today)
    bars = dict(BAR.findall(html))
    assert bars == {day: str(n) for day, n in expected.items()}  # days without any as 0
    assert dict(TABLE_ROW.findall(html)) == bars  # the table beside the chart: the same numbers
    assert expected[start.isoformat()] == 2 and expected[(start + timedelta(days=3)).isoformat()] == 3
    assert expected[(start + timedelta(days=6)).isoformat()] == 1 and expected[today.isoformat()] == 1
    assert sum(expected.values()) == 7
    assert 'id="period-use"' in html and "7 sessões abertas desde" in html
    assert f"{start:%d/%m/%Y} – {add_months(start, 1):%d/%m/%Y}" in html
    assert html.count('role="img" aria-label="') == len(expected)  # each bar labelled
    assert f'aria-label="{start:%d/%m/%Y}: 2 sessões"' in html


def test_a_client_without_a_plan_sees_the_offered_plans_and_the_contact(app, factory, tenants, make_browser):
    factory.plan(tenants.a.id, name="Essencial", sessions=50, price_cents=14990)
    retired = factory.plan(tenants.a.id, name="Antigo", sessions=10, price_cents=1990)
    with app.app_context():
        db.session.get(Plan, retired.id).retired_at = utcnow()
        db.session.commit()
    set_contacts(
        app,
        tenants.a.id,
        support_email="vendas@a.test",
        support_phone="+551130000000",
        support_whatsapp="+5511987654321",
    )
    bare = factory.client(tenants.a.id, trade_name="Sem Plano")
    user = make_browser()
    user.login(bare.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert 'id="without-plan"' in html and 'id="offered-plans"' in html
    offered = re.findall(r'data-plan-id="([0-9]+)">\s*<div class="fw-semibold">([^<]+)<', html)
    assert 'id="pending-plan"' not in html
    assert [name for _, name in offered] == ["Plano A", "Essencial"]  # cheapest first, not retired
    assert "Antigo" not in html and "Plano B" not in html  # nor another reseller's
    assert "R$\xa0149,90" in html and "50 sessões por período" in html and "Mensal" in html
    assert "mailto:vendas@a.test?subject=Plano%20Essencial%20para%20Sem%20Plano" in html
    assert 'href="tel:+551130000000"' in html and 'href="https://wa.me/5511987654321"' in html
    assert 'id="period-use"' not in html


def test_a_pending_plan_also_shows_the_offered_plans(app, factory, tenants, make_browser):
    client = factory.client(tenants.a.id, trade_name="Pendente")
    with app.app_context():
        row = db.session.get(Client, client.id)
        subscriptions.add_plan(row, db.session.get(Plan, tenants.a.plan.id), "stripe", None)
        db.session.commit()
    user = make_browser()
    user.login(client.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert "O plano Plano A começa assim que a fatura for paga" in html
    assert 'id="offered-plans"' in html and 'id="period-use"' not in html
    pending = (
        rf'data-plan-id="{tenants.a.plan.id}">\s*<div class="fw-semibold">Plano A <span[^>]*id="pending-plan"'
    )
    assert re.search(pending, html)  # the plan waiting for its invoice is marked


def test_without_a_contact_the_page_still_says_whom_to_talk_to(app, factory, tenants, make_browser):
    set_contacts(app, tenants.a.id, support_email=None, support_phone=None, support_whatsapp=None)
    bare = factory.client(tenants.a.id)
    user = make_browser()
    user.login(bare.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert "Fale com Reseller A pelo canal de sempre" in html and "Plano A" in html


@pytest.fixture
def open_invoice(app, tenants):
    """An open Stripe invoice of client A (active) and extra packs on sale."""
    with app.app_context():
        reseller = db.session.get(Reseller, tenants.a.id)
        reseller.extra_pack_conversations, reseller.extra_pack_price_cents = 100, 4990
        reseller.support_email = "financeiro@a.test"
        payment = Payment(
            reseller_id=tenants.a.id,
            client_id=tenants.a.client.id,
            description="Mensalidade",
            amount_cents=9990,
            payment_type="stripe",
            status="pending",
            due_date=today_local() + timedelta(days=5),
        )
        db.session.add(payment)
        db.session.commit()
        return payment.id


def test_without_stripe_the_page_says_how_to_pay(app, tenants, make_browser, open_invoice):
    user = make_browser()
    user.login(tenants.a.client.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" not in html and 'id="buy-extras"' not in html
    assert 'id="how-to-pay"' in html and "O pagamento online ainda não está disponível" in html
    assert "mailto:financeiro@a.test?subject=Pagamento%20de%20Alpha%20A" in html
    assert 'href="#how-to-pay"' in html  # the open invoice points to it
    assert "100 conversas por pacote por R$\xa049,90" in html and 'id="extras-why"' in html


def test_the_resellers_payment_instructions_tell_how_to_pay_without_stripe(
    app, tenants, make_browser, open_invoice
):
    staff = make_browser()
    staff.login("owner@a.test")
    settings = staff.get("/reseller/settings").get_data(as_text=True)
    assert 'name="payment_instructions"' in settings
    brand = {"name": "Reseller A", "primary_color": "#0d6efd", "support_email": "financeiro@a.test"}
    instructions = "Pix: financeiro@a.test\nBanco 001, agência 1234, conta 56789-0"
    saved = staff.post("/reseller/settings", {**brand, "payment_instructions": instructions})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).payment_instructions == instructions
    user = make_browser()
    user.login(tenants.a.client.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert 'id="payment-instructions"' in html and "Banco 001, agência 1234, conta 56789-0" in html
    # Cleared, the page asks the client to ask for the details again.
    staff.post("/reseller/settings", {**brand, "payment_instructions": ""})
    html = user.get("/app/subscription").get_data(as_text=True)
    assert 'id="payment-instructions"' not in html and "Peça a Reseller A os dados" in html


def test_with_stripe_the_responsible_user_pays_as_before(
    app, tenants, make_browser, open_invoice, fake_stripe
):
    user = make_browser()
    user.login(tenants.a.client.email)
    html = user.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" in html and 'id="buy-extras"' in html
    assert 'id="how-to-pay"' not in html and 'id="who-may-pay"' not in html and 'id="extras-why"' not in html


def who_may_pay_page(browser) -> str:
    html = browser.get("/app/subscription").get_data(as_text=True)
    assert "pay-form" not in html and 'id="buy-extras"' not in html
    assert 'id="who-may-pay"' in html and 'class="small text-body-secondary pay-who"' in html
    assert "Só User" in html and "(responsável pela conta)" in html
    assert "100 conversas por pacote por R$\xa049,90" in html  # the packs' price and size, still
    return html


def sections(html: str) -> list[str]:
    """What the page shows of the plan and paying (the one-time tokens left out)."""
    main = html[html.index("<h1") : html.index("</main>")]
    return [
        re.sub(r'name="(csrf_token|attempt)" value="[^"]*"', "", part)
        for part in re.findall(r'<div class="card[^"]*"[^>]*id="[a-z-]+".*?</div>', main, re.S)
    ]


def test_a_user_without_the_billing_permission_sees_who_may_pay(
    app, factory, tenants, make_browser, open_invoice, fake_stripe
):
    clerk = factory.user(tenants.a.client.id, email="caixa@alpha.test", name="Caixa")
    user = make_browser()
    user.login("caixa@alpha.test")
    seen_by_user = who_may_pay_page(user)
    assert user.post("/app/subscription/extras", {"packs": "1", "method": "pix"}).status_code == 403

    # Staff logged in as that user see exactly what the user sees.
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    staff = make_browser()
    staff.login("suporte@a.test")
    assert staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{clerk.id}/login-as").status_code == 302
    seen_by_staff = who_may_pay_page(staff)
    assert sections(seen_by_staff) == sections(seen_by_user) and sections(seen_by_user)

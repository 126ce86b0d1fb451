"""Every link in every e-mail is on the reseller's canonical URL, never on the host the
request named (``Host`` or, behind a proxy, ``X-Forwarded-Host``); a request on a host
that is not the reseller's own sends no password link at all."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from werkzeug.middleware.proxy_fix import ProxyFix

from auth.models import Login
from billing import notices, subscriptions
from billing.models import Payment
from core.extensions import db
from core.links import default_canonical_url
from core.models import Reseller
from tenant.models import Client
from tests.conftest import CSRF_META, PASSWORD
from tests.factories import ALL_STAFF_PERMISSIONS

CANONICAL = "https://atendimento.a.test:8443"
FOREIGN = "evil-attacker.test"
URL = re.compile(r"https?://[^\s<>\"']+")


@pytest.fixture
def canonical(app, tenants):
    """Reseller A's links live on a URL no request below names."""
    with app.app_context():
        db.session.execute(
            update(Reseller).where(Reseller.id == tenants.a.id).values(canonical_url=CANONICAL)
        )
        db.session.commit()
    return CANONICAL


@pytest.fixture
def behind_proxy(app, monkeypatch):
    """The app as deployed behind one proxy (PROXY_HOPS=1): X-Forwarded-* believed."""
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1))


def links_in(messages) -> list[str]:
    found = [url for message in messages for url in URL.findall(message["text"])]
    assert found, "the e-mail carries no link"
    return found


def assert_canonical(messages) -> None:
    for url in links_in(messages):
        assert url.startswith(CANONICAL + "/"), url
        assert FOREIGN not in url


def test_password_reset_asked_on_a_foreign_host_sends_nothing_with_the_same_answer(
    run_jobs, canonical, make_browser, mailbox
):
    on_foreign = make_browser(FOREIGN).post("/password/forgot", {"email": "owner@a.test"})
    on_own = make_browser().post("/password/forgot", {"email": "owner@a.test"})
    assert on_foreign.status_code == on_own.status_code == 302
    assert on_foreign.headers["Location"] == on_own.headers["Location"]
    run_jobs()
    (message,) = mailbox.to("owner@a.test")  # the request on the reseller's own host
    assert_canonical([message])


def test_password_reset_behind_a_proxy_ignores_x_forwarded_host(
    run_jobs, canonical, behind_proxy, app, mailbox
):
    http = app.test_client()
    page = http.get("http://a.test/password/forgot", headers={"X-Forwarded-Host": "a.test"})
    token = CSRF_META.search(page.get_data(as_text=True)).group(1)
    forged = http.post(
        "http://a.test/password/forgot",
        data={"email": "owner@a.test", "csrf_token": token},
        headers={"X-Forwarded-Host": FOREIGN},
    )
    assert forged.status_code == 302
    run_jobs()
    assert mailbox.to("owner@a.test") == []  # the host it named is nobody's: nothing sent
    own = http.post(
        "http://a.test/password/forgot",
        data={"email": "owner@a.test", "csrf_token": token},
        headers={"X-Forwarded-Host": "a.test", "X-Forwarded-Proto": "http"},
    )
    assert own.status_code == 302
    run_jobs()
    assert_canonical(mailbox.to("owner@a.test"))


def test_the_locked_login_e_mail_links_to_the_canonical_url(
    run_jobs, canonical, app, tenants, make_browser, mailbox
):
    with app.app_context():
        db.session.execute(update(Login).where(Login.email == "owner@a.test").values(failed_logins=99))
        db.session.commit()
    make_browser().post("/login", {"email": "owner@a.test", "password": "wrong password here"})
    run_jobs()
    (message,) = mailbox.to("owner@a.test")
    assert "bloqueado" in message["subject"] or "locked" in message["subject"]
    assert_canonical([message])


def test_the_locked_login_e_mail_is_sent_whatever_host_the_100th_failure_named(
    run_jobs, canonical, app, tenants, make_browser, mailbox
):
    """Anyone can make the 100th failure, on any host: the owner is still told, and the
    link is on the canonical URL."""
    with app.app_context():
        db.session.execute(update(Login).where(Login.email == "owner@a.test").values(failed_logins=99))
        db.session.commit()
    make_browser(FOREIGN).post("/login", {"email": "owner@a.test", "password": "wrong password here"})
    run_jobs()
    assert_canonical(mailbox.to("owner@a.test"))
    with app.app_context():
        assert db.session.scalar(select(Login.failed_logins).where(Login.email == "owner@a.test")) == 100


def test_an_invitation_sent_by_staff_on_a_foreign_host_links_to_the_canonical_url(
    run_jobs, canonical, tenants, make_browser, mailbox
):
    staff = make_browser(FOREIGN)  # the default reseller answers for an unknown host
    staff.login("owner@a.test")
    answer = staff.post(
        f"/reseller/clients/{tenants.a.client.id}/users/new",
        {"name": "Nova", "email": "nova@alpha.test", "chat_level": "6", "access": "invite"},
    )
    assert answer.status_code in (302, 303)
    run_jobs()
    (message,) = mailbox.to("nova@alpha.test")
    assert_canonical([message])


def test_the_login_code_e_mail_links_to_the_canonical_url(
    run_jobs, canonical, app, factory, tenants, make_browser, mailbox
):
    user = factory.user(tenants.a.client.id, email="novata@alpha.test")
    with app.app_context():
        db.session.execute(update(Login).where(Login.id == user.login_id).values(verified_at=None))
        db.session.commit()
    answer = make_browser(FOREIGN).post("/login", {"email": "novata@alpha.test", "password": PASSWORD})
    assert answer.headers["Location"].endswith("/login/code")
    run_jobs()
    assert_canonical(mailbox.to("novata@alpha.test"))


def test_the_deletion_code_e_mail_links_to_the_canonical_url(
    run_jobs, canonical, tenants, make_browser, mailbox
):
    staff = make_browser(FOREIGN)
    staff.login("owner@a.test")
    assert staff.post(f"/reseller/clients/{tenants.a.client.id}/delete/code").status_code in (302, 303)
    run_jobs()
    assert_canonical(mailbox.to("owner@a.test"))


def test_finance_e_mails_sent_during_a_request_on_a_foreign_host_link_to_the_canonical_url(
    run_jobs, canonical, app, factory, tenants, make_browser, mailbox
):
    factory.staff(tenants.a.id, ALL_STAFF_PERMISSIONS, email="financeiro@a.test")
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
        db.session.commit()
        payment_id = payment.id
    staff = make_browser(FOREIGN)
    staff.login("owner@a.test")
    staff.post(f"/reseller/clients/{tenants.a.client.id}/payments/{payment_id}/paid", {"method": "transfer"})
    run_jobs()
    to_staff = mailbox.to("financeiro@a.test")
    to_client = mailbox.to(tenants.a.client.email)
    assert to_staff and to_client
    assert_canonical(to_staff + to_client)
    assert any(f"/reseller/clients/{tenants.a.client.id}/billing" in url for url in links_in(to_staff))
    assert any(url.endswith("/app/subscription") for url in links_in(to_client))


def test_finance_e_mails_sent_by_a_job_link_to_the_canonical_url(run_jobs, canonical, app, tenants, mailbox):
    """Outside any request (a webhook's job, a sweep) the links are the same."""

    with app.app_context():
        notices.queue(db.session.get(Client, tenants.a.client.id), "overdue")
        db.session.commit()
    run_jobs()
    assert_canonical(mailbox.to(tenants.a.client.email) + mailbox.to("owner@a.test"))


def test_stripe_checkout_returns_to_the_canonical_url(
    canonical, app, factory, tenants, make_browser, fake_stripe
):

    plan = factory.plan(tenants.a.id, name="Essencial", price_cents=14990)
    client = factory.client(tenants.a.id, trade_name="Nova Loja")
    with app.app_context():
        row = db.session.get(Client, client.id)
        subscriptions.add_plan(row, db.session.get(subscriptions.Plan, plan.id), "stripe", None)
        db.session.commit()
        payment_id = db.session.scalar(select(Payment.id).where(Payment.client_id == client.id))
    user = make_browser(FOREIGN)
    user.login(client.email)
    user.post(f"/app/subscription/invoices/{payment_id}/pay", {"method": "pix", "attempt": "a1" * 16})
    (checkout,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    for key in ("success_url", "cancel_url"):
        assert checkout["params"][key].startswith(CANONICAL + "/app/subscription?checkout="), checkout[
            "params"
        ]


def test_the_operator_invitation_link_is_on_the_canonical_url(app, runner_app):
    result = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "Canon",
            "--host",
            "canon.test",
            "--owner-email",
            "dono@canon.test",
            "--canonical-url",
            "https://suporte.canon.test",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "https://suporte.canon.test/password/set/" in result.output
    bad = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "X",
            "--host",
            "x.test",
            "--owner-email",
            "a@x.test",
            "--canonical-url",
            "https://x.test/path?q=1",
        ]
    )
    assert bad.exit_code != 0 and "not a valid URL" in bad.output


def test_a_new_reseller_links_over_https_in_production(app):
    with app.app_context():
        app.config["PREFERRED_URL_SCHEME"] = "https"
        try:
            assert default_canonical_url("acme.com.br") == "https://acme.com.br"
        finally:
            app.config["PREFERRED_URL_SCHEME"] = "http"


def test_no_code_builds_an_absolute_link_from_the_request():
    """The defect cannot come back: absolute URLs come from core.links only."""

    root = Path(__file__).resolve().parent.parent
    offenders = []
    for package in ("core", "auth", "tenant", "billing", "reseller"):
        for path in (root / package).rglob("*.py"):
            if path == root / "core" / "links.py":  # says why, in its docstring
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("_external=True", "request.host_url", "request.url_root", "request.host +"):
                if needle in text:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []

"""Password login, account choice, server-side sessions, invitations, operator CLI."""

from __future__ import annotations

import re

from sqlalchemy import select

from auth.models import Account, AuthSession, Login
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tenant.models import Client


def test_wrong_password_and_unknown_email_get_the_same_answer(tenants, browser):
    wrong = browser.post("/login", {"email": "owner@a.test", "password": "not the password!"})
    unknown = browser.post("/login", {"email": "nobody@a.test", "password": "not the password!"})
    assert wrong.status_code == unknown.status_code == 200
    message = "E-mail ou senha incorretos"
    alt = "E-mail or password is incorrect"
    for response in (wrong, unknown):
        text = response.get_data(as_text=True)
        assert message in text or alt in text


def test_failed_login_is_audited(app, tenants, browser):
    browser.post("/login", {"email": "owner@a.test", "password": "not the password!"})
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        assert event is not None and event.reseller_id == tenants.a.id


def test_login_is_throttled_per_ip(tenants, browser):
    # A different e-mail each time: only the per-IP limit (20 per minute) applies.
    codes = [
        browser.post("/login", {"email": f"x{n}@a.test", "password": "whatever-123456"}).status_code
        for n in range(21)
    ]
    assert codes[:20] == [200] * 20
    assert codes[20] == 429


def test_failed_logins_are_throttled_per_account_across_ips(tenants, make_browser):
    # Ten failures for one e-mail, from ten addresses: the eleventh try is refused
    # even with the right password, and the same holds for an unknown e-mail.
    for email in ("owner@a.test", "nobody@a.test"):
        browser = make_browser()
        codes = [
            browser.post(
                "/login",
                {"email": email, "password": "wrong password here"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{n}"},
            ).status_code
            for n in range(10)
        ]
        assert codes == [200] * 10
        last = browser.post(
            "/login",
            {"email": email, "password": "correct horse battery staple 42"},
            environ_base={"REMOTE_ADDR": "10.0.1.1"},
        )
        assert last.status_code == 429


def test_successful_logins_do_not_count_against_the_account(tenants, make_browser):
    for _ in range(12):
        browser = make_browser()
        browser.login("owner@a.test")


def test_staff_login_lands_in_the_panel_and_client_user_in_the_workspace(tenants, browser, make_browser):
    assert browser.login("owner@a.test").headers["Location"] == "/reseller/clients"
    other = make_browser()
    assert other.login(tenants.a.client.email).headers["Location"] == "/app/"
    assert other.get("/reseller/clients").status_code == 403


def test_the_same_email_at_another_reseller_is_another_login(tenants, make_browser):
    # owner@a.test has no login at reseller B.
    response = make_browser("b.test").post(
        "/login", {"email": "owner@a.test", "password": "correct horse battery staple 42"}
    )
    assert response.status_code == 200


def test_logout_revokes_the_server_side_session(app, tenants, browser):
    browser.login("owner@a.test")
    cookie = browser.http.get_cookie("rv_session", domain="a.test").value
    assert browser.post("/logout").status_code == 302
    # Replaying the old cookie does not bring the session back.
    browser.http.set_cookie("rv_session", cookie, domain="a.test")
    assert browser.get("/reseller/clients").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AuthSession.revoked_at)) is not None


def test_session_id_rotates_on_login(tenants, browser):
    browser.get("/login")
    before = browser.http.get_cookie("rv_session", domain="a.test")
    browser.login("owner@a.test")
    after = browser.http.get_cookie("rv_session", domain="a.test")
    assert before is None or before.value != after.value


def test_staff_session_ends_after_30_idle_minutes(app, tenants, browser):
    browser.login("owner@a.test")
    with app.app_context():
        row = db.session.scalar(select(AuthSession))
        row.last_seen_at = utcnow().replace(microsecond=0) - __import__("datetime").timedelta(minutes=31)
        db.session.commit()
    assert browser.get("/reseller/clients").status_code == 302


def test_deactivated_user_loses_the_session_at_the_next_request(app, tenants, make_browser):
    user = make_browser()
    user.login(tenants.a.client.email)
    assert user.get("/app/").status_code == 200
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.client_id == tenants.a.client.id))
        account.active = False
        db.session.commit()
    assert user.get("/app/").status_code == 302


def test_deleted_client_users_are_logged_out(app, tenants, make_browser):
    user = make_browser()
    user.login(tenants.a.client.email)
    with app.app_context():
        db.session.get(Client, tenants.a.client.id).deleted_at = utcnow()
        db.session.commit()
    assert user.get("/app/").status_code == 302


def test_login_with_several_accounts_chooses_one(app, factory, tenants, browser):
    second = factory.client(tenants.a.id, trade_name="Segunda Empresa")
    factory.user(second.id, email="multi@a.test", name="Multi")
    factory.user(tenants.a.client.id, email="multi@a.test", name="Multi")
    response = browser.post("/login", {"email": "multi@a.test", "password": factory.password})
    assert response.headers["Location"].endswith("/login/account")
    page = browser.get("/login/account").get_data(as_text=True)
    assert "Segunda Empresa" in page and "Alpha A" in page
    with app.app_context():
        account_id = db.session.scalar(
            select(Account.id).where(Account.client_id == second.id, Account.name == "Multi")
        )
    chosen = browser.post("/login/account", {"account_id": account_id})
    assert chosen.headers["Location"] == "/app/"
    assert "Segunda Empresa" in browser.get("/app/", follow_redirects=True).get_data(as_text=True)


def test_account_choice_refuses_an_account_of_another_login(app, factory, tenants, browser):
    second = factory.client(tenants.a.id)
    factory.user(second.id, email="multi@a.test")
    factory.user(tenants.a.client.id, email="multi@a.test")
    browser.post("/login", {"email": "multi@a.test", "password": factory.password})
    with app.app_context():
        foreign = db.session.scalar(select(Account.id).where(Account.client_id == tenants.b.client.id))
    assert browser.post("/login/account", {"account_id": foreign}).status_code == 404


def test_resellers_create_with_password(app, runner_app):
    result = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "Nova Revenda",
            "--host",
            "nova.example.com",
            "--owner-email",
            "Dono@Nova.example.com",
            "--owner-password",
            "uma senha bem comprida 2026",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "dono@nova.example.com"))
        assert login is not None and login.password_hash.startswith("scrypt:")


def test_resellers_create_without_password_prints_a_single_use_invitation(app, runner_app, make_browser):
    result = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "Convite",
            "--host",
            "convite.test",
            "--owner-email",
            "dono@convite.test",
        ]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"https?://convite\.test(/password/set/\S+)", result.output).group(1)
    visitor = make_browser("convite.test")
    short = visitor.post(link, {"password": "curta", "confirm": "curta"})
    assert short.status_code == 200  # refused: too short
    done = visitor.post(
        link, {"password": "frase secreta de boas vindas", "confirm": "frase secreta de boas vindas"}
    )
    assert done.headers["Location"].endswith("/login")
    again = visitor.post(
        link, {"password": "outra frase secreta longa", "confirm": "outra frase secreta longa"}
    )
    assert again.headers["Location"].endswith("/login")
    assert visitor.login("dono@convite.test", "frase secreta de boas vindas").status_code == 302


def test_resellers_create_refuses_a_taken_host_and_a_common_password(runner_app, tenants):
    taken = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "X",
            "--host",
            "a.test",
            "--owner-email",
            "x@x.test",
            "--owner-password",
            "uma senha bem comprida",
        ]
    )
    assert taken.exit_code != 0 and "already serves" in taken.output
    weak = runner_app.invoke(
        args=[
            "resellers",
            "create",
            "--name",
            "X",
            "--host",
            "x.test",
            "--owner-email",
            "x@x.test",
            "--owner-password",
            "password1234",
        ]
    )
    assert weak.exit_code != 0


def test_seed_demo_is_idempotent(app, runner_app):
    first = runner_app.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    second = runner_app.invoke(args=["seed", "demo"])
    assert "already present" in second.output
    with app.app_context():
        assert db.session.query(Client).count() == 30
        emails = set(db.session.scalars(select(Login.email)))
        assert {"owner@demo.test", "agent@demo.test", "multi@demo.test"} <= emails
        multi = db.session.scalar(select(Login).where(Login.email == "multi@demo.test"))
        assert len([a for a in multi.accounts if a.client_id]) == 2

"""Identity: first-login code, trusted browsers, account choice and switching, staff
TOTP, sessions page, password reset and change, lock-out after failures."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import delete, event, select

from auth import challenges, devices, totp
from auth import codes as one_time_codes
from auth.models import Account, AuthSession, Login, LoginChallenge, RecoveryCode, TrustedDevice
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from reseller.resellers import create_reseller
from tenant.models import Client
from tests.conftest import PASSWORD

CODE = re.compile(r"^\s+(\d{6})\s*$", re.M)


# --- helpers ------------------------------------------------------------------------


def last_code(mailbox, run_jobs, email: str) -> str:
    run_jobs()
    messages = mailbox.to(email)
    assert messages, f"no mail to {email}"
    match = CODE.search(messages[-1]["text"])
    assert match, messages[-1]["text"]
    return match.group(1)


def unverified_user(app, factory, client_id: int, email: str):
    user = factory.user(client_id, email=email, name="Nova Pessoa")
    with app.app_context():
        login = db.session.get(Login, user.login_id)
        login.verified_at = None
        db.session.commit()
    return user


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def set_reseller(app, reseller_id: int, **values) -> None:
    with app.app_context():
        reseller = db.session.get(Reseller, reseller_id)
        for key, value in values.items():
            setattr(reseller, key, value)
        db.session.commit()


def session_cookie(browser) -> str | None:
    cookie = browser.http.get_cookie("rv_session", domain="a.test")
    return cookie.value if cookie else None


def first_login(browser, email: str, mailbox, run_jobs) -> None:
    assert browser.post("/login", {"email": email, "password": PASSWORD}).headers["Location"] == "/login/code"
    code = last_code(mailbox, run_jobs, email)
    response = browser.post("/login/code", {"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]


# --- first-login code ---------------------------------------------------------------


def test_first_login_asks_the_emailed_code_then_trusts_the_browser(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    user = unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    browser = make_browser()
    response = browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    assert response.headers["Location"] == "/login/code"
    # No session yet: the workspace still sends the browser to the login page.
    assert browser.get("/app/").status_code == 302

    run_jobs()
    [mail] = mailbox.to("nova@cliente.test")
    assert "Reseller A" in mail["subject"] and "Reseller A" in mail["text"]
    assert "127.0.0.1" in mail["text"]  # from where
    assert "10 minutos" in mail["text"] or "10 minutes" in mail["text"]
    code = CODE.search(mail["text"]).group(1)

    page = browser.get("/login/code").get_data(as_text=True)
    assert "nova@cliente.test" in page and 'name="code"' in page
    done = browser.post("/login/code", {"code": code})
    assert done.headers["Location"] == "/app/"
    assert browser.get("/app/").status_code == 200
    device_cookie = browser.http.get_cookie(devices.DEVICE_COOKIE, domain="a.test")
    assert device_cookie is not None and device_cookie.http_only and device_cookie.same_site == "Lax"
    with app.app_context():
        login = db.session.get(Login, user.login_id)
        assert login.verified_at is not None
        challenge = db.session.scalar(select(LoginChallenge).where(LoginChallenge.login_id == login.id))
        assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    assert {"auth.code_sent", "auth.code_accepted", "auth.browser_trusted", "auth.login"} <= set(
        audit_actions(app)
    )

    # The same browser, later: no code.
    browser.post("/logout")
    mailbox.clear()
    assert browser.login("nova@cliente.test").headers["Location"] == "/app/"
    # Another browser: no code either, the e-mail is verified (reseller setting off).
    assert make_browser().login("nova@cliente.test").headers["Location"] == "/app/"
    run_jobs()
    assert mailbox.to("nova@cliente.test") == []


def test_reseller_setting_asks_the_code_on_every_new_browser(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    set_reseller(app, tenants.a.id, code_on_every_new_browser=True)
    trusted = make_browser()
    first_login(trusted, "nova@cliente.test", mailbox, run_jobs)
    trusted.post("/logout")
    assert trusted.login("nova@cliente.test").headers["Location"] == "/app/"
    stranger = make_browser()
    assert stranger.login("nova@cliente.test").headers["Location"] == "/login/code"


def test_wrong_code_then_five_tries_exhaust_the_code(app, factory, tenants, browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    code = last_code(mailbox, run_jobs, "nova@cliente.test")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    first = browser.post("/login/code", {"code": wrong})
    assert first.status_code == 422
    assert "incorreto" in first.get_data(as_text=True)
    for _ in range(4):
        browser.post("/login/code", {"code": wrong})
    exhausted = browser.post("/login/code", {"code": code})
    assert exhausted.status_code == 422
    assert "Muitas tentativas" in exhausted.get_data(as_text=True)
    assert browser.get("/app/").status_code == 302


def test_code_expires_after_ten_minutes(app, factory, tenants, browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    with time_machine.travel(utcnow(), tick=False) as clock:
        browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
        code = last_code(mailbox, run_jobs, "nova@cliente.test")
        clock.shift(timedelta(minutes=9, seconds=50))
        # Still valid just before the 10 minutes (and the pending login is still alive).
        with app.app_context():
            challenge = db.session.scalar(select(LoginChallenge))
            assert challenge.expires_at > utcnow()
        clock.shift(timedelta(seconds=20))
        late = browser.post("/login/code", {"code": code})
    assert late.status_code in (302, 422)
    if late.status_code == 422:
        assert "expirou" in late.get_data(as_text=True)
    assert browser.get("/app/").status_code == 302


def test_code_is_single_use_even_when_the_cookie_is_replayed(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    browser = make_browser()
    browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    code = last_code(mailbox, run_jobs, "nova@cliente.test")
    saved = browser.http.get_cookie("rv_session", domain="a.test").value
    assert browser.post("/login/code", {"code": code}).status_code == 302
    # An attacker replays the pending-login cookie captured before the code was used.
    replay = make_browser()
    replay.http.set_cookie("rv_session", saved, domain="a.test")
    again = replay.post("/login/code", {"code": code})
    assert again.status_code == 422
    assert "já foi usado" in again.get_data(as_text=True)
    assert replay.get("/app/").status_code == 302


def test_code_is_bound_to_its_login_attempt(app, factory, tenants, make_browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    first, second = make_browser(), make_browser()
    first.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    code_first = last_code(mailbox, run_jobs, "nova@cliente.test")
    second.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    code_second = last_code(mailbox, run_jobs, "nova@cliente.test")
    if code_first != code_second:
        assert second.post("/login/code", {"code": code_first}).status_code == 422
    assert second.post("/login/code", {"code": code_second}).status_code == 302
    assert first.post("/login/code", {"code": code_first}).status_code == 302


def test_resend_is_throttled_and_does_not_reset_the_tries(app, factory, tenants, browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    with time_machine.travel(utcnow(), tick=False) as clock:
        browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
        old = last_code(mailbox, run_jobs, "nova@cliente.test")
        wrong = f"{(int(old) + 1) % 10**6:06d}"
        for _ in range(3):
            browser.post("/login/code", {"code": wrong})
        too_soon = browser.post("/login/code/resend", follow_redirects=True)
        assert "Aguarde" in too_soon.get_data(as_text=True)
        run_jobs()
        assert len(mailbox.to("nova@cliente.test")) == 1
        clock.shift(timedelta(seconds=61))
        browser.post("/login/code/resend")
        new = last_code(mailbox, run_jobs, "nova@cliente.test")
        assert len(mailbox.to("nova@cliente.test")) == 2
        if new != old:
            assert browser.post("/login/code", {"code": old}).status_code == 422  # 4th try
        else:
            browser.post("/login/code", {"code": wrong})
        # The fifth try was the last one: even the right code is refused now.
        browser.post("/login/code", {"code": wrong})
        final = browser.post("/login/code", {"code": new})
        assert final.status_code == 422
    with app.app_context():
        challenge = db.session.scalar(select(LoginChallenge))
        assert challenge.attempts == one_time_codes.CODE_MAX_TRIES and challenge.sends == 2


def test_codes_per_hour_are_capped(app, factory, tenants, make_browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    for _ in range(one_time_codes.MAX_CHALLENGES_PER_HOUR):
        assert (
            make_browser()
            .post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
            .headers["Location"]
            == "/login/code"
        )
    refused = make_browser().post("/login", {"email": "nova@cliente.test", "password": PASSWORD})
    assert refused.status_code == 429
    run_jobs()
    assert len(mailbox.to("nova@cliente.test")) == one_time_codes.MAX_CHALLENGES_PER_HOUR


@pytest.mark.real_commits
def test_two_concurrent_submissions_of_one_code_exactly_one_wins(app):
    """Service level, with real commits and one connection per thread."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency is checked on PostgreSQL")

    with app.test_request_context("/", base_url="http://conc.test"):
        reseller, login = create_reseller(
            name="Concorrência", host="conc.test", owner_email="dono@conc.test", require_staff_2fa=False
        )
        db.session.commit()
        challenge = challenges.start_challenge(login)
        code = "123456"
        challenge.code_hash = one_time_codes.keyed_digest("code", challenge.id, code)
        db.session.commit()
        challenge_id, login_id, reseller_id = challenge.id, login.id, reseller.id
    try:
        barrier = threading.Barrier(2)
        results: list[str] = []

        def submit():
            with app.app_context():
                barrier.wait()
                try:
                    challenges.verify_code(challenge_id, login_id, code)
                    db.session.commit()
                    results.append("won")
                except one_time_codes.CodeRefused as refused:
                    db.session.rollback()
                    results.append(refused.reason)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["used", "won"]
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


# --- account choice and switching ---------------------------------------------------


def multi_login(app, factory, tenants):
    """multi@a.test: a user in two clients of A, plus a staff account of A."""
    other = factory.client(tenants.a.id, trade_name="Gama Comércio")
    first = factory.user(tenants.a.client.id, email="multi@a.test", name="Multi em Alpha")
    second = factory.user(other.id, email="multi@a.test", name="Multi em Gama")
    staff = factory.staff(tenants.a.id, permissions=["clients"], email="multi@a.test")
    return first, second, staff


def test_a_login_with_several_accounts_chooses_one(app, factory, tenants, browser):
    first, second, staff = multi_login(app, factory, tenants)
    response = browser.post("/login", {"email": "multi@a.test", "password": PASSWORD})
    assert response.headers["Location"] == "/login/account"
    page = browser.get("/login/account").get_data(as_text=True)
    for text in ("Alpha A", "Multi em Alpha", "Gama Comércio", "Multi em Gama", "Reseller A"):
        assert text in page
    chosen = browser.post("/login/account", {"account_id": second.id})
    assert chosen.headers["Location"] == "/app/"
    with app.app_context():
        live = db.session.scalar(select(AuthSession).where(AuthSession.revoked_at.is_(None)))
        assert live.account_id == second.id


def test_switch_moves_to_another_account_of_the_login_with_a_new_session_id(app, factory, tenants, browser):
    first, second, _staff = multi_login(app, factory, tenants)
    browser.post("/login", {"email": "multi@a.test", "password": PASSWORD})
    browser.post("/login/account", {"account_id": first.id})
    before = session_cookie(browser)
    menu = browser.get("/app/").get_data(as_text=True)
    assert "Gama Comércio" in menu and f'data-switch-to="{second.id}"' in menu

    with app.app_context():
        logged_in_at = db.session.get(Login, first.login_id).last_login_at
    switched = browser.post("/account/switch", {"account_id": second.id})
    assert switched.headers["Location"] == "/app/"
    assert session_cookie(browser) != before
    with app.app_context():
        # The account entered records it; the login, signed in already, is not written.
        assert db.session.get(Account, second.id).last_login_at > logged_in_at
        assert db.session.get(Login, first.login_id).last_login_at == logged_in_at
        sessions = db.session.scalars(select(AuthSession).order_by(AuthSession.id)).all()
        assert [s.account_id for s in sessions] == [first.id, second.id]
        assert sessions[0].revoked_at is not None and sessions[1].revoked_at is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.switch"))
        assert event.details["from_account_id"] == first.id and event.object_id == str(second.id)


def _statements_of_request(app, browser, path: str) -> tuple[int, str]:
    """How many SQL statements a GET of ``path`` sends, and the page."""
    count = 0

    def seen(*_args) -> None:
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = browser.get(path).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count, page


def test_the_switch_menu_reads_the_logins_accounts_and_their_clients_in_one_statement(
    app, factory, tenants, browser
):
    first, _second, _staff = multi_login(app, factory, tenants)
    browser.post("/login", {"email": "multi@a.test", "password": PASSWORD})
    browser.post("/login/account", {"account_id": first.id})
    browser.get("/app/")
    before, _page = _statements_of_request(app, browser, "/app/")
    for name in ("Delta Ltda", "Epsilon Ltda"):
        factory.user(factory.client(tenants.a.id, trade_name=name).id, email="multi@a.test")
    gone = factory.client(tenants.a.id, trade_name="Zeta Apagada")
    factory.user(gone.id, email="multi@a.test")
    with app.app_context():
        db.session.get(Client, gone.id).deleted_at = utcnow()
        db.session.commit()
    after, page = _statements_of_request(app, browser, "/app/")
    assert "Gama Comércio" in page and "Delta Ltda" in page and "Epsilon Ltda" in page
    assert "Zeta Apagada" not in page  # a deleted client's account is not offered
    assert after == before


def test_switch_refuses_accounts_the_login_does_not_hold_or_that_are_inactive(app, factory, tenants, browser):
    first, second, _staff = multi_login(app, factory, tenants)
    stranger = factory.user(tenants.a.client.id, email="outra@a.test")
    other_reseller_user = factory.user(tenants.b.client.id, email="multi@a.test")
    browser.post("/login", {"email": "multi@a.test", "password": PASSWORD})
    browser.post("/login/account", {"account_id": first.id})
    assert browser.post("/account/switch", {"account_id": stranger.id}).status_code == 404
    assert browser.post("/account/switch", {"account_id": other_reseller_user.id}).status_code == 404
    with app.app_context():
        db.session.get(Account, second.id).active = False
        db.session.commit()
    assert browser.post("/account/switch", {"account_id": second.id}).status_code == 404
    assert browser.post("/account/switch", {"account_id": second.id}, csrf=False).status_code == 400
    # Still in the first account.
    assert browser.get("/app/").status_code == 200


def test_switching_into_a_staff_account_asks_for_the_totp_code(app, factory, tenants, browser):
    first, _second, staff = multi_login(app, factory, tenants)
    set_reseller(app, tenants.a.id, require_staff_2fa=True)
    with app.app_context():
        login = db.session.get(Login, first.login_id)
        login.totp_secret = pyotp.random_base32()
        login.totp_enabled_at = utcnow()
        secret = login.totp_secret
        db.session.commit()
    browser.post("/login", {"email": "multi@a.test", "password": PASSWORD})
    browser.post("/login/account", {"account_id": first.id})
    asked = browser.post("/account/switch", {"account_id": staff.id})
    assert asked.headers["Location"] == "/login/2fa"
    # Until the code is given the user stays in the client account.
    assert browser.get("/reseller/clients").status_code == 403
    page = browser.get("/login/2fa").get_data(as_text=True)
    assert 'name="code"' in page
    assert browser.post("/login/2fa", {"code": "000000"}).status_code == 422
    done = browser.post("/login/2fa", {"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/reseller/clients"
    assert browser.get("/reseller/clients").status_code == 200
    assert "auth.switch" in audit_actions(app)


# --- staff TOTP ---------------------------------------------------------------------


def test_staff_enrol_totp_when_the_reseller_requires_it_and_codes_cannot_be_replayed(
    app, tenants, make_browser
):
    set_reseller(app, tenants.a.id, require_staff_2fa=True)
    browser = make_browser()
    with time_machine.travel(utcnow(), tick=False) as clock:
        response = browser.post("/login", {"email": "owner@a.test", "password": PASSWORD})
        assert response.headers["Location"] == "/login/2fa/setup"
        page = browser.get("/login/2fa/setup").get_data(as_text=True)
        assert "<svg" in page  # the QR code, drawn on the server
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
        assert browser.get("/reseller/clients").status_code == 302
        code = pyotp.TOTP(secret).now()
        done = browser.post("/login/2fa/setup", {"code": code})
        assert done.status_code == 200
        codes = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>", done.get_data(as_text=True))
        assert len(codes) == totp.RECOVERY_CODES
        assert browser.get("/reseller/clients").status_code == 200

        # A later login asks the code; the code already used is refused (same window).
        again = make_browser()
        assert (
            again.post("/login", {"email": "owner@a.test", "password": PASSWORD}).headers["Location"]
            == "/login/2fa"
        )
        assert again.post("/login/2fa", {"code": code}).status_code == 422
        clock.shift(timedelta(seconds=30))
        assert again.post("/login/2fa", {"code": pyotp.TOTP(secret).now()}).status_code == 302

        # A recovery code works once.
        third, fourth = make_browser(), make_browser()
        third.post("/login", {"email": "owner@a.test", "password": PASSWORD})
        assert third.post("/login/2fa", {"code": codes[0].upper()}).status_code == 302
        fourth.post("/login", {"email": "owner@a.test", "password": PASSWORD})
        assert fourth.post("/login/2fa", {"code": codes[0]}).status_code == 422
    actions = audit_actions(app)
    assert {"auth.2fa_enabled", "auth.2fa_failed", "auth.recovery_code_used"} <= set(actions)
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert all(c.replace("-", "") not in h for c in codes for h in stored)


def test_totp_replay_is_refused_even_when_two_requests_race(app, tenants):
    with app.test_request_context("/", base_url="http://a.test"):
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        login.totp_secret = pyotp.random_base32()
        code = pyotp.TOTP(login.totp_secret).now()
        assert totp.check_totp(login, code) is True
        assert totp.check_totp(login, code) is False


def test_staff_can_turn_totp_on_from_the_security_page_and_off_when_not_required(app, tenants, browser):
    browser.login("owner@a.test")
    page = browser.get("/account/2fa/setup").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert browser.post("/account/2fa/setup", {"code": pyotp.TOTP(secret).now()}).status_code == 200
        clock.shift(timedelta(seconds=30))
        set_reseller(app, tenants.a.id, require_staff_2fa=True)
        refused = browser.post(
            "/account/2fa/disable", {"code": pyotp.TOTP(secret).now()}, follow_redirects=True
        )
        assert "não pode ser desligada" in refused.get_data(as_text=True)
        set_reseller(app, tenants.a.id, require_staff_2fa=False)
        browser.post("/account/2fa/disable", {"code": pyotp.TOTP(secret).now()})
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        assert login.has_totp is False
    assert "auth.2fa_disabled" in audit_actions(app)


# --- sessions page ------------------------------------------------------------------


def test_sessions_page_lists_and_revokes_sessions(app, tenants, make_browser):
    laptop, phone, tablet = make_browser(), make_browser(), make_browser()
    laptop.login("owner@a.test")
    phone.http.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
    )
    phone.login("owner@a.test")
    tablet.login("owner@a.test")
    page = laptop.get("/account/security").get_data(as_text=True)
    assert page.count("data-session-id=") == 3 and "Safari / iPhone" in page
    with app.app_context():
        ids = db.session.scalars(select(AuthSession.id).order_by(AuthSession.id)).all()
    assert laptop.post(f"/account/sessions/{ids[1]}/revoke").status_code == 302
    assert phone.get("/reseller/clients").status_code == 302
    assert tablet.get("/reseller/clients").status_code == 200
    laptop.post("/account/sessions/revoke-others")
    assert tablet.get("/reseller/clients").status_code == 302
    assert laptop.get("/reseller/clients").status_code == 200
    assert {"auth.session_revoked", "auth.sessions_revoked_others"} <= set(audit_actions(app))


def test_another_logins_session_or_browser_is_404(app, tenants, make_browser):
    owner_b = make_browser("b.test")
    owner_b.login("owner@b.test")
    owner_a = make_browser()
    owner_a.login("owner@a.test")
    with app.app_context():
        b_session = db.session.scalar(
            select(AuthSession).where(
                AuthSession.reseller_id == tenants.b.id, AuthSession.revoked_at.is_(None)
            )
        )
        login_b = db.session.get(Login, b_session.login_id)
        device = TrustedDevice(reseller_id=tenants.b.id, login_id=login_b.id, token_hash="x" * 64)
        db.session.add(device)
        db.session.commit()
        b_session_id, device_id = b_session.id, device.id
    assert owner_a.post(f"/account/sessions/{b_session_id}/revoke").status_code == 404
    assert owner_a.post(f"/account/devices/{device_id}/revoke").status_code == 404
    assert owner_b.get("/reseller/clients").status_code == 200


def test_trusted_browsers_are_listed_and_revocable(app, factory, tenants, make_browser, mailbox, run_jobs):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    set_reseller(app, tenants.a.id, code_on_every_new_browser=True)
    browser = make_browser()
    first_login(browser, "nova@cliente.test", mailbox, run_jobs)
    page = browser.get("/account/security").get_data(as_text=True)
    assert page.count("data-device-id=") == 1
    device_id = int(re.search(r'data-device-id="(\d+)"', page).group(1))
    browser.post(f"/account/devices/{device_id}/revoke")
    browser.post("/logout")
    assert (
        browser.post("/login", {"email": "nova@cliente.test", "password": PASSWORD}).headers["Location"]
        == "/login/code"
    )


# --- passwords ----------------------------------------------------------------------


def test_password_reset_by_emailed_link_single_use_one_hour(app, tenants, make_browser, mailbox, run_jobs):
    elsewhere = make_browser()
    elsewhere.login("owner@a.test")
    browser = make_browser()
    known = browser.post("/password/forgot", {"email": "owner@a.test"}, follow_redirects=True)
    unknown = make_browser().post("/password/forgot", {"email": "ninguem@a.test"}, follow_redirects=True)
    strip = lambda r: re.sub(r"\S+@a\.test", "E", r.get_data(as_text=True))  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    assert re.search(r"alert-info[^>]*>\s*([^<]+)", strip(known)).group(1) == re.search(
        r"alert-info[^>]*>\s*([^<]+)", strip(unknown)
    ).group(1)
    run_jobs()
    assert mailbox.to("ninguem@a.test") == []
    [mail] = mailbox.to("owner@a.test")
    link = re.search(r"http://a\.test(/password/set/\S+)", mail["text"]).group(1)

    new_password = "uma frase nova e comprida 2026"
    done = browser.post(link, {"password": new_password, "confirm": new_password})
    assert done.headers["Location"] == "/login"
    assert elsewhere.get("/reseller/clients").status_code == 302  # other sessions ended
    assert make_browser().login("owner@a.test", new_password).status_code == 302
    # Single use.
    reused = browser.post(
        link, {"password": "outra frase comprida 2026", "confirm": "outra frase comprida 2026"}
    )
    assert reused.headers["Location"] == "/login"
    assert make_browser().login("owner@a.test", new_password).status_code == 302

    # Valid for one hour only.
    mailbox.clear()
    with time_machine.travel(utcnow(), tick=False) as clock:
        make_browser().post("/password/forgot", {"email": "owner@a.test"})
        run_jobs()
        link = re.search(r"http://a\.test(/password/set/\S+)", mailbox.to("owner@a.test")[-1]["text"]).group(
            1
        )
        clock.shift(timedelta(minutes=61))
        late = make_browser().get(link)
        assert late.headers["Location"] == "/login"


def test_password_change_asks_the_current_one_and_ends_the_other_sessions(app, tenants, make_browser):
    elsewhere, browser = make_browser(), make_browser()
    elsewhere.login("owner@a.test")
    browser.login("owner@a.test")
    new_password = "uma frase nova e comprida 2026"
    wrong = browser.post(
        "/account/password",
        {"current": "errada errada 123", "password": new_password, "confirm": new_password},
        follow_redirects=True,
    )
    assert "senha atual está incorreta" in wrong.get_data(as_text=True)
    assert elsewhere.get("/reseller/clients").status_code == 200
    before = session_cookie(browser)
    browser.post(
        "/account/password", {"current": PASSWORD, "password": new_password, "confirm": new_password}
    )
    assert session_cookie(browser) != before
    assert browser.get("/reseller/clients").status_code == 200
    assert elsewhere.get("/reseller/clients").status_code == 302
    assert make_browser().login("owner@a.test", new_password).status_code == 302
    assert {"auth.password_change_failed", "auth.password_changed"} <= set(audit_actions(app))


def test_a_hundred_consecutive_failures_lock_the_login_until_a_reset(
    app, tenants, make_browser, mailbox, run_jobs
):
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        login.failed_logins = 99
        db.session.commit()
    make_browser().post("/login", {"email": "owner@a.test", "password": "uma senha errada"})
    run_jobs()
    [mail] = mailbox.to("owner@a.test")
    link = re.search(r"http://a\.test(/password/set/\S+)", mail["text"]).group(1)
    locked = make_browser().post("/login", {"email": "owner@a.test", "password": PASSWORD})
    assert locked.status_code == 200 and "incorretos" in locked.get_data(as_text=True)
    browser = make_browser()
    new_password = "uma frase nova e comprida 2026"
    browser.post(link, {"password": new_password, "confirm": new_password})
    assert make_browser().login("owner@a.test", new_password).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Login.failed_logins).where(Login.email == "owner@a.test")) == 0


def test_every_identity_event_is_audited_with_where_from(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    unverified_user(app, factory, tenants.a.client.id, "nova@cliente.test")
    browser = make_browser()
    first_login(browser, "nova@cliente.test", mailbox, run_jobs)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.reseller_id == tenants.a.id, AuditEvent.action.like("auth.%"))
        ).all()
        assert {e.action for e in events} >= {"auth.code_sent", "auth.code_accepted", "auth.login"}
        assert all(e.ip == "127.0.0.1" and e.user_agent is not None for e in events)
        assert all(e.actor_label == "nova@cliente.test" for e in events)


# --- session lifetimes --------------------------------------------------------------


def test_staff_session_idle_30_minutes_and_absolute_12_hours(tenants, make_browser):
    with time_machine.travel(utcnow(), tick=False) as clock:
        idle = make_browser()
        idle.login("owner@a.test")
        clock.shift(timedelta(minutes=29))
        assert idle.get("/reseller/clients").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert idle.get("/reseller/clients").status_code == 302

        busy = make_browser()
        busy.login("owner@a.test")
        # Active every 20 minutes, the session still ends 12 hours after it started.
        for _ in range(35):
            clock.shift(timedelta(minutes=20))
            assert busy.get("/reseller/clients").status_code == 200
        clock.shift(timedelta(minutes=20, seconds=1))
        assert busy.get("/reseller/clients").status_code == 302


def test_client_user_session_outlives_the_staff_idle_limit(tenants, make_browser):
    with time_machine.travel(utcnow(), tick=False) as clock:
        user = make_browser()
        user.login(tenants.a.client.email)
        clock.shift(timedelta(hours=2))
        assert user.get("/app/").status_code == 200


def test_second_factor_tries_are_throttled_per_login_across_browsers(app, tenants, make_browser):
    set_reseller(app, tenants.a.id, require_staff_2fa=True)
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        login.totp_secret = pyotp.random_base32()
        login.totp_enabled_at = utcnow()
        secret = login.totp_secret
        db.session.commit()
    codes = []
    for n in range(11):
        browser = make_browser()
        browser.post("/login", {"email": "owner@a.test", "password": PASSWORD})
        codes.append(
            browser.post(
                "/login/2fa", {"code": "000000"}, environ_base={"REMOTE_ADDR": f"10.1.0.{n}"}
            ).status_code
        )
    assert codes[:10] == [422] * 10 and codes[10] == 429
    late = make_browser()
    late.post("/login", {"email": "owner@a.test", "password": PASSWORD})
    assert late.post("/login/2fa", {"code": pyotp.TOTP(secret).now()}).status_code == 429


def test_a_pending_totp_secret_is_never_shown_to_another_browser(app, tenants, make_browser):
    set_reseller(app, tenants.a.id, require_staff_2fa=True)
    secrets_seen = []
    for _ in range(2):
        browser = make_browser()
        browser.post("/login", {"email": "owner@a.test", "password": PASSWORD})
        page = browser.get("/login/2fa/setup").get_data(as_text=True)
        secrets_seen.append(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
        # The same browser keeps its secret across reloads.
        again = browser.get("/login/2fa/setup").get_data(as_text=True)
        assert secrets_seen[-1] in again
    assert secrets_seen[0] != secrets_seen[1]
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        assert login.totp_secret is None and not login.has_totp

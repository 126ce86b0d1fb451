"""A "log in as" never outlives the staff member's own controls: their session list,
ending sessions, password, deactivation, losing the permission, logout, and the staff
idle and absolute limits. And a login half-way through (code, account choice) dies
when its password changes or its sessions are ended elsewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from auth import permissions as perm
from auth.models import Account, AuthSession, Login, Role
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "outra frase longa e segura 77"
EN = {"Accept-Language": "en"}


def cookie(browser) -> str:
    return browser.http.get_cookie("rv_session", domain=browser.host).value


@pytest.fixture
def scene(app, factory, tenants, make_browser):
    """One staff login in two browsers; in A it acts as a client user."""
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    user = factory.user(tenants.a.client.id, email="atendente@alpha.test", name="Atendente Alpha")
    acting, other = make_browser(), make_browser()
    acting.login(staff.email)
    other.login(staff.email)
    started = acting.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as")
    assert started.headers["Location"] == "/app/"
    assert acting.get("/app/").status_code == 200
    return staff, user, acting, other


def can_write(browser) -> bool:
    """A write of the workspace (a new contact) goes through."""
    answer = browser.post("/app/contacts", {"name": "Contato Novo", "phone": "11987650001"})
    return answer.status_code == 303 and answer.headers["Location"] == "/app/contacts"


def live_impersonations(app) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(AuthSession).where(
                    AuthSession.impersonator_account_id.is_not(None), AuthSession.revoked_at.is_(None)
                )
            ).all()
        )


def test_the_impersonation_is_listed_in_the_staff_members_sessions_and_can_be_ended_there(
    app, tenants, scene
):
    _staff, user, acting, other = scene
    page = other.get("/account/security").get_data(as_text=True)
    assert f'data-acting-as="{user.id}"' in page and "Atendente Alpha" in page
    with app.app_context():
        row_id = db.session.scalar(
            select(AuthSession.id).where(
                AuthSession.account_id == user.id, AuthSession.impersonator_account_id.is_not(None)
            )
        )
    assert other.post(f"/account/sessions/{row_id}/revoke").status_code == 302
    assert acting.get("/app/").headers["Location"] != "/app/"
    assert live_impersonations(app) == 0


def test_ending_every_other_session_ends_an_impersonation_in_another_browser(app, scene):
    _staff, _user, acting, other = scene
    other.post("/account/sessions/revoke-others")
    answer = acting.get("/app/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert not can_write(acting)
    assert acting.get("/reseller/clients").headers["Location"].startswith("/login")  # no panel either
    assert live_impersonations(app) == 0
    assert other.get("/reseller/clients").status_code == 200  # the browser that asked stays


def test_a_password_change_elsewhere_ends_the_impersonation(app, scene):
    _staff, _user, acting, other = scene
    changed = other.post(
        "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert changed.status_code == 302
    assert acting.get("/app/").headers["Location"].startswith("/login")
    assert not can_write(acting)
    assert live_impersonations(app) == 0


def test_deactivating_the_staff_member_ends_their_impersonation(app, scene):
    staff, _user, acting, _other = scene
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == staff.id).values(active=False))
        db.session.commit()
    assert acting.get("/app/").headers["Location"].startswith("/login")
    assert not can_write(acting)
    assert live_impersonations(app) == 0


def test_a_role_losing_log_in_as_ends_the_impersonation_and_returns_to_the_panel(app, scene):
    staff, _user, acting, _other = scene
    with app.app_context():
        db.session.execute(update(Role).where(Role.id == staff.role_id).values(permissions=[perm.CLIENTS]))
        db.session.commit()
    back = acting.get("/app/")
    assert back.headers["Location"] == "/reseller/clients"
    assert acting.get("/reseller/clients").status_code == 200
    assert live_impersonations(app) == 0
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "impersonation.permission_removed")
        )


def test_logout_while_impersonating_ends_the_staff_session_too(app, tenants, scene, make_browser):
    _staff, _user, acting, _other = scene
    stolen = cookie(acting)  # a copy of the cookie: it carries the staff session's token too
    assert acting.post("/logout").status_code == 302
    replay = make_browser()
    replay.http.set_cookie("rv_session", stolen, domain="a.test")
    assert replay.get("/reseller/clients").headers["Location"].startswith("/login")
    assert replay.get("/app/").headers["Location"].startswith("/login")
    with app.app_context():
        staff_sessions = db.session.scalars(
            select(AuthSession).where(AuthSession.account_id == _staff.id, AuthSession.revoked_at.is_(None))
        ).all()
        assert len(staff_sessions) == 1  # only the other browser's


def test_the_staff_idle_limit_runs_while_impersonating(app, scene):
    _staff, _user, acting, _other = scene
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        answer = acting.get("/app/")
        assert answer.headers["Location"].startswith("/login")
        assert not can_write(acting)


def test_an_impersonation_that_expires_in_an_idle_browser_does_not_reopen_the_panel(app, scene):
    _staff, _user, acting, _other = scene
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        answer = acting.get("/app/")
        assert answer.headers["Location"].startswith("/login")
        assert acting.get("/reseller/clients").headers["Location"].startswith("/login")


def test_activity_while_impersonating_keeps_the_staff_session_alive(app, scene):
    _staff, _user, acting, _other = scene
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(2):
            clock.shift(timedelta(minutes=20))
            assert acting.get("/app/").status_code == 200
        assert acting.post("/impersonation/end").status_code == 302
        assert acting.get("/reseller/clients").status_code == 200


def test_the_staff_absolute_limit_ends_the_impersonation(app, scene):
    staff, _user, acting, _other = scene
    with app.app_context():
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.account_id == staff.id)
            .values(expires_at=utcnow() + timedelta(minutes=1))
        )
        db.session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        assert acting.get("/app/").headers["Location"].startswith("/login")


# --- logins half-way through --------------------------------------------------------


@pytest.fixture
def chooser(factory, tenants, make_browser):
    """A login with two accounts, waiting at the account chooser in one browser."""
    second = factory.client(tenants.a.id, trade_name="Segunda")
    one = factory.user(second.id, email="multi@a.test")
    factory.user(tenants.a.client.id, email="multi@a.test")
    waiting = make_browser()
    assert (
        waiting.post("/login", {"email": "multi@a.test", "password": PASSWORD})
        .headers["Location"]
        .endswith("/login/account")
    )
    return waiting, one


def test_a_login_waiting_at_the_account_chooser_dies_when_the_password_changes(app, chooser, make_browser):
    waiting, account = chooser
    elsewhere = make_browser()
    elsewhere.login("multi@a.test")
    elsewhere.post("/login/account", {"account_id": account.id})
    elsewhere.post(
        "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    answer = waiting.post("/login/account", {"account_id": account.id})
    assert answer.headers["Location"].endswith("/login")
    assert waiting.get("/app/").headers["Location"].startswith("/login")


def test_a_login_waiting_at_the_account_chooser_dies_when_every_other_session_ends(
    app, chooser, make_browser
):
    waiting, account = chooser
    elsewhere = make_browser()
    elsewhere.login("multi@a.test")
    elsewhere.post("/login/account", {"account_id": account.id})
    assert elsewhere.get("/account/security").status_code == 200
    elsewhere.post("/account/sessions/revoke-others")
    assert waiting.post("/login/account", {"account_id": account.id}).headers["Location"].endswith("/login")
    assert elsewhere.get("/account/security").status_code == 200  # the browser that asked stays


# --- what the security and code pages say -------------------------------------------


def code_on_every_new_browser(app, reseller_id: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Reseller).where(Reseller.id == reseller_id).values(code_on_every_new_browser=True)
        )
        db.session.commit()


def test_the_security_page_says_what_the_resellers_code_setting_does(app, tenants, make_browser):
    browser = make_browser()
    browser.login("owner@a.test")
    page = browser.get("/account/security", headers=EN).get_data(as_text=True)
    assert "on the first login of an e-mail only" in page and "it will be asked again" not in page
    code_on_every_new_browser(app, tenants.a.id)
    page = browser.get("/account/security", headers=EN).get_data(as_text=True)
    assert "it will be asked again" in page


def test_the_code_page_says_what_the_resellers_code_setting_does(app, factory, tenants, make_browser):
    user = factory.user(tenants.a.client.id, email="novata@alpha.test")
    with app.app_context():
        db.session.execute(update(Login).where(Login.id == user.login_id).values(verified_at=None))
        db.session.commit()
    browser = make_browser()
    browser.post("/login", {"email": "novata@alpha.test", "password": PASSWORD})
    page = browser.get("/login/code", headers=EN).get_data(as_text=True)
    assert "only asked on its first login" in page and "in this browser" not in page
    code_on_every_new_browser(app, tenants.a.id)
    page = browser.get("/login/code", headers=EN).get_data(as_text=True)
    assert "we will not ask for it again in this browser" in page


def test_a_client_user_cannot_end_staff_acting_as_them(app, tenants, scene, make_browser):
    """Staff acting as a user are not that user's session: its own list neither shows
    nor ends them (it sees them under "accesses by the reseller's staff")."""
    _staff, user, acting, _other = scene
    own = make_browser()
    own.login(user.email)
    with app.app_context():
        row_id = db.session.scalar(
            select(AuthSession.id).where(
                AuthSession.account_id == user.id, AuthSession.impersonator_account_id.is_not(None)
            )
        )
    assert own.post(f"/account/sessions/{row_id}/revoke").status_code == 404
    assert acting.get("/app/").status_code == 200


def test_a_switch_half_way_through_dies_when_its_session_is_ended_elsewhere(
    app, factory, tenants, make_browser
):
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="dupla@a.test")
    user = factory.user(tenants.a.client.id, email="dupla@a.test")
    with app.app_context():
        db.session.execute(update(Reseller).where(Reseller.id == tenants.a.id).values(require_staff_2fa=True))
        db.session.commit()
    switching, owner = make_browser(), make_browser()
    for browser in (switching, owner):
        browser.login("dupla@a.test")
        browser.post("/login/account", {"account_id": user.id})
        assert browser.get("/account/security").status_code == 200
    staff_id = factory_account_id(app, "dupla@a.test", staff=True)
    asked = switching.post("/account/switch", {"account_id": staff_id})
    assert asked.headers["Location"].endswith("/login/2fa/setup")
    assert switching.get("/login/2fa/setup").status_code == 200
    with app.app_context():
        first = db.session.scalar(
            select(AuthSession.id).where(AuthSession.account_id == user.id).order_by(AuthSession.id)
        )
    owner.post(f"/account/sessions/{first}/revoke")
    assert switching.get("/login/2fa/setup").headers["Location"].endswith("/login")


def factory_account_id(app, email: str, *, staff: bool) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Account.id)
            .join(Login, Login.id == Account.login_id)
            .where(
                Login.email == email, Account.client_id.is_(None) if staff else Account.client_id.is_not(None)
            )
        )

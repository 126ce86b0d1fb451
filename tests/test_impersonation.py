"""Log in as: staff act as a client user with exactly that user's permissions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event as sa_event
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account, AuthSession
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tenant.models import Client


def cookie(browser) -> str:
    return browser.http.get_cookie("rv_session", domain=browser.host).value


def login_as(browser, client_id: int, account_id: int):
    return browser.post(f"/reseller/clients/{client_id}/users/{account_id}/login-as")


@pytest.fixture
def scene(app, factory, tenants, make_browser):
    """Staff of A allowed to log in as; a user of A's client; the staff logged in."""
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    user = factory.user(tenants.a.client.id, email="atendente@alpha.test", name="Atendente Alpha")
    browser = make_browser()
    browser.login("suporte@a.test")
    return staff, user, browser


def test_log_in_as_opens_the_users_workspace_with_a_new_session_id(app, tenants, scene):
    staff, user, browser = scene
    before = cookie(browser)
    response = login_as(browser, tenants.a.client.id, user.id)
    assert response.headers["Location"] == "/app/"
    assert cookie(browser) != before
    page = browser.get("/app/").get_data(as_text=True)
    assert 'id="impersonation-banner"' in page and "Atendente Alpha" in page
    # Exactly the user's permissions: the staff member's panel is out of reach now.
    assert browser.get("/reseller/clients").status_code == 403
    with app.app_context():
        rows = db.session.scalars(select(AuthSession).order_by(AuthSession.id)).all()
        staff_row, acting = rows[-2], rows[-1]
        assert staff_row.account_id == staff.id and staff_row.revoked_at is None
        assert acting.account_id == user.id and acting.impersonator_account_id == staff.id
        assert acting.expires_at - acting.created_at == timedelta(minutes=60)
        started = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "impersonation.started"))
        assert started.actor_account_id == staff.id and started.object_id == str(user.id)


def test_the_deny_list_answers_403_while_impersonating(app, factory, tenants, scene):
    staff, user, browser = scene
    other = factory.client(tenants.a.id, trade_name="Outro Cliente")
    second_account = factory.user(other.id, email="atendente@alpha.test")
    login_as(browser, tenants.a.client.id, user.id)
    assert browser.get("/account/security").status_code == 403
    for path, data in (
        ("/account/switch", {"account_id": second_account.id}),
        ("/account/password", {"current": "x" * 12, "password": "y" * 14, "confirm": "y" * 14}),
        ("/account/2fa/setup", {"code": "123456"}),
        ("/account/2fa/disable", {"code": "123456"}),
        ("/account/sessions/revoke-others", {}),
        ("/account/sessions/1/revoke", {}),
        ("/account/devices/1/revoke", {}),
    ):
        assert browser.post(path, data).status_code == 403, path
    assert "data-switch-to" not in browser.get("/app/").get_data(as_text=True)


def test_end_returns_to_the_panel_with_a_new_staff_session(app, tenants, scene):
    staff, user, browser = scene
    with app.app_context():
        original = db.session.scalar(select(AuthSession).where(AuthSession.account_id == staff.id))
        original_id, deadline = original.id, original.expires_at
    login_as(browser, tenants.a.client.id, user.id)
    acting_cookie = cookie(browser)
    ended = browser.post("/impersonation/end")
    assert ended.headers["Location"] == f"/reseller/clients/{tenants.a.client.id}/users"
    assert cookie(browser) != acting_cookie
    assert browser.get("/reseller/clients").status_code == 200
    with app.app_context():
        old = db.session.get(AuthSession, original_id)
        assert old.revoked_at is not None
        live = db.session.scalars(select(AuthSession).where(AuthSession.revoked_at.is_(None))).all()
        assert [(s.account_id, s.impersonator_account_id) for s in live] == [(staff.id, None)]
        assert live[0].expires_at == deadline  # the 12-hour limit is not reset
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "impersonation.ended"))
    assert browser.post("/impersonation/end").status_code == 400


def test_impersonation_expires_by_itself_and_is_never_extended(app, tenants, scene):
    staff, user, browser = scene
    with time_machine.travel(utcnow(), tick=False) as clock:
        login_as(browser, tenants.a.client.id, user.id)
        for _ in range(5):
            clock.shift(timedelta(minutes=11))
            assert browser.get("/app/").status_code == 200
        clock.shift(timedelta(minutes=5, seconds=1))
        back = browser.get("/app/")
        assert back.status_code == 302 and back.headers["Location"] == "/reseller/clients"
        assert browser.get("/reseller/clients").status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "impersonation.expired" in actions


def test_the_users_own_sessions_are_untouched_and_impersonations_can_overlap(
    app, tenants, scene, make_browser
):
    staff, user, browser = scene
    own = make_browser()
    own.login("atendente@alpha.test")
    colleague = make_browser()
    colleague.login("owner@a.test")
    login_as(browser, tenants.a.client.id, user.id)
    login_as(colleague, tenants.a.client.id, user.id)
    for b in (own, browser, colleague):
        assert b.get("/app/").status_code == 200
    browser.post("/impersonation/end")
    assert own.get("/app/").status_code == 200 and colleague.get("/app/").status_code == 200
    # The user sees who acted as them.
    page = own.get("/account/security").get_data(as_text=True)
    assert page.count("data-impersonation-id=") == 2
    assert "Staff" in page or "suporte@a.test" in page
    assert page.count("data-session-id=") == 1  # impersonations are not the user's sessions


def test_refusals(app, factory, tenants, make_browser, scene):
    staff, user, browser = scene
    # Without the permission.
    plain = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="plain@a.test")
    other = make_browser()
    other.login(plain.email)
    assert login_as(other, tenants.a.client.id, user.id).status_code == 403
    # A staff account, another client's user, another reseller's user: 404.
    assert login_as(browser, tenants.a.client.id, staff.id).status_code == 404
    b_user = factory.user(tenants.b.client.id, email="gente@beta.test")
    assert login_as(browser, tenants.b.client.id, b_user.id).status_code == 404
    assert login_as(browser, tenants.a.client.id, b_user.id).status_code == 404
    # A deactivated user: refused with a message.
    with app.app_context():
        db.session.get(Account, user.id).active = False
        db.session.commit()
    refused = login_as(browser, tenants.a.client.id, user.id)
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/users")
    assert browser.get("/reseller/clients").status_code == 200  # still the staff member
    # A deleted client: 404.
    live_user = factory.user(tenants.a.client.id, email="outro@alpha.test")
    with app.app_context():
        db.session.get(Client, tenants.a.client.id).deleted_at = utcnow()
        db.session.commit()
    assert login_as(browser, tenants.a.client.id, live_user.id).status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(select(AuthSession).where(AuthSession.impersonator_account_id.is_not(None)))
            is None
        )


def test_clients_without_a_plan_show_only_the_subscription_page_unless_permitted(
    app, factory, tenants, make_browser
):
    no_plan = factory.client(tenants.a.id, trade_name="Sem Plano Ltda")
    user = factory.user(no_plan.id, email="gente@semplano.test")
    limited = factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="lim@a.test")
    allowed = factory.staff(
        tenants.a.id,
        permissions=[perm.CLIENTS, perm.LOG_IN_AS, perm.HANDLE_CLIENTS_WITHOUT_PLAN],
        email="all@a.test",
    )
    first = make_browser()
    first.login(limited.email)
    assert login_as(first, no_plan.id, user.id).headers["Location"] == "/app/"
    assert first.get("/app/").headers["Location"] == "/app/subscription"
    assert first.get("/app/contacts").headers["Location"] == "/app/subscription"
    assert first.post("/app/contacts", {"name": "X", "phone": "11987654321"}).status_code == 403
    page = first.get("/app/subscription").get_data(as_text=True)
    assert 'id="without-plan"' in page
    second = make_browser()
    second.login(allowed.email)
    assert login_as(second, no_plan.id, user.id).headers["Location"] == "/app/"
    assert second.get("/app/").status_code == 200


def test_log_in_as_needs_csrf(tenants, scene):
    _staff, user, browser = scene
    assert (
        browser.post(
            f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as", csrf=False
        ).status_code
        == 400
    )


def test_log_in_as_writes_its_session_and_chained_audit_event_in_few_statements(app, tenants, scene):
    """Starting "log in as" reads the host and session, then the user with its client and
    its login (the new session's actor label) in one statement, then writes the session
    and, on PostgreSQL, the audit event with its place in the chain in one statement: no
    early flush leaves the event to be chained by two more UPDATEs at the commit."""
    _staff, user, browser = scene
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        response = login_as(browser, tenants.a.client.id, user.id)
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)
    assert response.headers["Location"] == "/app/"
    assert not [s for s in statements if re.search(r"\bFROM (logins|clients)\b", s)], statements
    audit_statements = [s for s in statements if not s.startswith("SELECT") and "audit_" in s]
    if engine.dialect.name == "postgresql":
        assert len(audit_statements) == 1, audit_statements
        assert "INSERT INTO audit_events" in audit_statements[0]
    assert not [s for s in audit_statements if s.startswith("UPDATE audit_events")], audit_statements

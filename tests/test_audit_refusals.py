"""Refused and failed attempts are in the audit log, committed although the refusing
request rolls back: wrong password, unknown e-mail, locked login, wrong code, a
permission refused, a throttled attempt."""

from __future__ import annotations

from sqlalchemy import select

from auth import permissions as perm
from auth.models import Login
from core.extensions import db
from core.models import AuditEvent
from core.states import ActorKind
from tests.conftest import PASSWORD


def _events(app, action: str, reseller_id: int) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.reseller_id == reseller_id)
            .order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return events


def test_a_wrong_password_an_unknown_email_and_a_locked_login_are_told_apart(app, tenants, make_browser):
    make_browser().post("/login", {"email": "owner@a.test", "password": "not the password!"})
    make_browser().post("/login", {"email": "ninguem@a.test", "password": "not the password!"})
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        login.failed_logins = 100
        db.session.commit()
        login_id = login.id
    make_browser().post("/login", {"email": "owner@a.test", "password": PASSWORD})
    events = _events(app, "auth.login_failed", tenants.a.id)
    assert [e.details["reason"] for e in events] == ["wrong_password", "unknown_login", "locked"]
    assert all(e.actor_kind == ActorKind.ANONYMOUS for e in events)
    assert events[0].object_id == str(login_id) and events[1].object_id is None


def test_a_refused_permission_is_recorded_although_the_request_rolls_back(
    app, factory, tenants, make_browser
):
    staff = factory.staff(tenants.a.id, permissions=[perm.PLANS])
    browser = make_browser()
    browser.login(staff.email)
    response = browser.get(f"/reseller/clients/{tenants.a.client.id}/billing")
    assert response.status_code == 403
    (event,) = _events(app, "access.denied", tenants.a.id)
    assert event.actor_account_id == staff.id and event.actor_kind == ActorKind.STAFF
    assert event.details == {
        "method": "GET",
        "path": f"/reseller/clients/{tenants.a.client.id}/billing",
        "permission": perm.CLIENTS,
    }
    assert event.seq is not None and event.digest  # in the chain like any other


def test_a_throttled_attempt_is_recorded_once_a_minute_per_address(app, tenants, browser):
    codes = [
        browser.post("/login", {"email": f"x{n}@a.test", "password": "whatever-123456"}).status_code
        for n in range(23)
    ]
    assert codes[20:] == [429, 429, 429]
    (event,) = _events(app, "access.throttled", tenants.a.id)
    assert event.details["path"] == "/login" and event.actor_kind == ActorKind.ANONYMOUS
    assert len(_events(app, "auth.login_failed", tenants.a.id)) == 20

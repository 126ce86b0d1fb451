"""A "Log in as" link asked for through the API (issue 16, scope ``impersonate``): it
works only in a browser logged in as the staff member it names (a visitor logs in
first), after their click, once, for 60 seconds, under every rule of the panel's
*Log in as*; issuing and using it are audited with the API client."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account, AuthSession
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tests.api_setup import Caller, api_client, token


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes)
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def scene(app, factory, tenants):
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    user = factory.user(tenants.a.client.id, email="atendente@alpha.test", name="Atendente Alpha")
    return staff, user, f"/api/v1/clients/{tenants.a.client.id}/users/{user.id}/login-link"


def impersonations(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.account_id == user_id, AuthSession.impersonator_account_id.is_not(None))
        )


def test_the_link_opens_log_in_as_for_that_staff_member_once(app, tenants, scene, make_browser):
    staff, user, path = scene
    api = caller(app, tenants.a.id)
    issued = api.post(path, json={"staff_email": "suporte@a.test"})
    assert issued.status_code == 201, issued.get_data(as_text=True)
    body = issued.get_json()
    assert body["expires_in"] == 60 and body["staff_id"] == staff.id
    url = urlsplit(body["url"])
    assert url.hostname == "a.test" and url.path.startswith("/reseller/api/login-link/")
    # A visitor is sent to log in first, and comes back to the link.
    visitor = make_browser()
    first = visitor.get(url.path)
    assert first.status_code == 302 and "/login" in first.headers["Location"]
    assert "login-link" in first.headers["Location"]
    # Another staff member (who may log in as, too) cannot use it.
    other = make_browser()
    other.login("owner@a.test")
    assert other.get(url.path).status_code == 404
    assert other.post(url.path).status_code == 404
    assert impersonations(app, user.id) == 0
    # The staff member it names sees whom they become, and confirms.
    browser = make_browser()
    browser.login("suporte@a.test")
    page = browser.get(url.path)
    assert page.status_code == 200
    assert "Entrar como Atendente Alpha?" in page.get_data(as_text=True)
    assert browser.post(url.path, csrf=False).status_code == 400
    done = browser.post(url.path)
    assert done.status_code == 302 and done.headers["Location"] == "/app/"
    assert 'id="impersonation-banner"' in browser.get("/app/").get_data(as_text=True)
    assert impersonations(app, user.id) == 1
    with app.app_context():
        issued_event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "impersonation.link_issued")
        )
        used = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "impersonation.link_used"))
    assert issued_event.actor_label == "ERP" and issued_event.details["staff_account_id"] == staff.id
    assert (
        used.actor_account_id == staff.id
        and used.details["api_client_id"] == issued_event.details["api_client_id"]
    )
    # Once: the same link again (back in the staff member's own session) is a 404.
    again = make_browser()
    again.login("suporte@a.test")
    assert again.get(url.path).status_code == 404
    assert again.post(url.path).status_code == 404
    assert impersonations(app, user.id) == 1


def test_the_link_lives_60_seconds(app, tenants, scene, make_browser):
    _staff, user, path = scene
    url = urlsplit(
        caller(app, tenants.a.id).post(path, json={"staff_email": "suporte@a.test"}).get_json()["url"]
    )
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        browser = make_browser()
        browser.login("suporte@a.test")
        assert browser.get(url.path).status_code == 404
        assert browser.post(url.path).status_code == 404
    assert impersonations(app, user.id) == 0


def test_the_panels_rules_refuse_the_link(app, factory, tenants, scene):
    _staff, user, path = scene
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="sem-permissao@a.test")
    api = caller(app, tenants.a.id)
    plain = api.post(path, json={"staff_email": "sem-permissao@a.test"})
    assert plain.status_code == 422 and plain.get_json()["code"] == "staff_may_not_log_in_as"
    foreign = api.post(path, json={"staff_email": "owner@b.test"})
    assert foreign.status_code == 422 and foreign.get_json()["param"] == "staff_email"
    for body in ({}, {"staff_id": 1, "staff_email": "suporte@a.test"}):
        refused = api.post(path, json=body)
        assert refused.status_code == 422 and refused.get_json()["param"] == "staff_id"
    with app.app_context():
        db.session.get(Account, user.id).active = False
        db.session.commit()
    inactive = api.post(path, json={"staff_email": "suporte@a.test"}, headers={"Accept-Language": "pt-BR"})
    assert inactive.status_code == 409 and "desativado" in inactive.get_json()["detail"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "impersonation.link_issued")
            )
            == 0
        )


def test_the_link_needs_the_impersonate_scope_and_this_resellers_objects(app, factory, tenants, scene):
    staff, _user, path = scene
    refused = caller(app, tenants.a.id, ["users:write"]).post(path, json={"staff_id": staff.id})
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    user_b = factory.user(tenants.b.client.id)
    api = caller(app, tenants.a.id)
    other = f"/api/v1/clients/{tenants.a.client.id}/users/{user_b.id}/login-link"
    assert api.post(other, json={"staff_id": staff.id}).status_code == 404

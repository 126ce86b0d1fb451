"""Staff roles (``/reseller/roles``, issue 12): built from the staff permissions (seed
002's plus desks, API, audit log, staff and settings); create, rename, change, delete
(refused while in use, with the count); the built-in Owner holds everything and is not
edited; nobody adds a permission they lack or edits the role they hold; every change
audited with before and after; another reseller's role is a 404."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import STAFF, Account, Login, Role
from core.extensions import db
from core.models import AuditEvent

EN = {"Accept-Language": "en"}


@pytest.fixture
def owner(tenants, make_browser):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


def role(app, role_id: int) -> Role | None:
    with app.app_context():
        row = db.session.get(Role, role_id)
        if row is not None:
            db.session.expunge(row)
        return row


def role_id_named(app, reseller_id: int, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Role.id).where(Role.reseller_id == reseller_id, Role.name == name))


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def test_the_staff_permissions_include_desks_api_audit_log_and_staff_and_settings():
    for name in (
        "clients",
        "client_invoices",
        "plans",
        "log_in_as",
        "handle_clients_without_plan",
        "client_users",
        "extra_conversations",
        "finance_emails",
        "delete_clients",
        "desks",
        "api",
        "audit_log",
        "staff_settings",
    ):
        assert name in perm.STAFF_PERMISSIONS
    assert perm.STAFF_SETTINGS == "staff_settings" and perm.DESKS == "desks"
    assert Role(is_owner=True, permissions=[]).grants(perm.STAFF_SETTINGS)


def test_the_roles_page_lists_roles_with_their_permissions_and_holders(app, tenants, owner, factory):
    factory.staff(tenants.a.id, [perm.CLIENTS, perm.AUDIT_LOG], email="x@a.test")
    html = owner.get("/reseller/roles", headers=EN).get_data(as_text=True)
    assert "Owner" in html and "Every permission (built in)" in html
    assert "Audit log" in html and "Clients" in html
    # Another reseller's roles are not listed.
    assert role_id_named(app, tenants.b.id, "Owner") is not None
    assert html.count('data-role-id="') == 2


def test_create_rename_change_and_delete_a_role_each_audited_with_before_and_after(app, tenants, owner):
    created = owner.post(
        "/reseller/roles/new", {"name": "  Suporte  ", "permissions": [perm.CLIENTS, perm.DESKS]}, headers=EN
    )
    assert created.status_code == 302
    role_id = role_id_named(app, tenants.a.id, "Suporte")
    assert sorted(role(app, role_id).permissions) == [perm.CLIENTS, perm.DESKS]
    event = events(app, "role.created")[-1]
    assert event.details == {
        "before": None,
        "after": {"name": "Suporte", "owner": False, "permissions": [perm.CLIENTS, perm.DESKS]},
    }
    edited = owner.post(
        f"/reseller/roles/{role_id}/edit", {"name": "Atendimento", "permissions": [perm.CLIENTS, perm.API]}
    )
    assert edited.status_code == 302
    assert role(app, role_id).name == "Atendimento"
    event = events(app, "role.updated")[-1]
    assert event.details["before"] == {
        "name": "Suporte",
        "owner": False,
        "permissions": [perm.CLIENTS, perm.DESKS],
    }
    assert event.details["after"] == {
        "name": "Atendimento",
        "owner": False,
        "permissions": [perm.API, perm.CLIENTS],
    }
    assert event.object_id == str(role_id) and event.reseller_id == tenants.a.id
    # No permissions at all is a valid (empty) role.
    assert owner.post(f"/reseller/roles/{role_id}/edit", {"name": "Atendimento"}).status_code == 302
    assert role(app, role_id).permissions == []
    assert owner.post(f"/reseller/roles/{role_id}/delete").status_code == 302
    assert role(app, role_id) is None
    assert events(app, "role.deleted")[-1].details["before"]["name"] == "Atendimento"


def test_bad_input_gets_a_clear_message_and_changes_nothing(app, tenants, owner):
    owner.post("/reseller/roles/new", {"name": "Vendas", "permissions": [perm.CLIENTS]})
    for data, message in (
        ({"name": "vendas", "permissions": [perm.CLIENTS]}, "already called"),
        ({"name": "", "permissions": [perm.CLIENTS]}, "required"),
        ({"name": "x" * 81}, "80"),
        ({"name": "Outra", "permissions": ["root"]}, "valid choice"),
    ):
        response = owner.post("/reseller/roles/new", data, headers=EN)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), (data, message)
    with app.app_context():
        assert db.session.scalar(select(Role.name).where(Role.name == "Outra")) is None
        assert len(db.session.scalars(select(Role).where(Role.reseller_id == tenants.a.id)).all()) == 2


def test_a_role_in_use_is_not_deleted_and_the_message_says_by_how_many(app, tenants, owner, factory):
    member = factory.staff(tenants.a.id, [perm.CLIENTS], email="um@a.test")
    with app.app_context():
        second = db.session.scalar(select(Account).join(Login).where(Login.email == "owner@b.test"))
        assert second.reseller_id == tenants.b.id  # B's staff never count for A's role
        other = factory.staff(tenants.a.id, [], email="dois@a.test")
        db.session.get(Account, other.id).role_id = member.role_id
        db.session.get(Account, other.id).active = False  # a deactivated holder still counts
        db.session.commit()
    refused = owner.post(f"/reseller/roles/{member.role_id}/delete", headers=EN, follow_redirects=True)
    assert "is held by 2 staff member(s)" in refused.get_data(as_text=True)
    assert role(app, member.role_id) is not None
    assert not events(app, "role.deleted")


def test_the_owner_role_is_built_in_never_edited_nor_deleted(app, tenants, owner):
    owner_role_id = role_id_named(app, tenants.a.id, "Owner")
    page = owner.get(f"/reseller/roles/{owner_role_id}/edit", headers=EN, follow_redirects=True)
    assert "built in" in page.get_data(as_text=True)
    owner.post(f"/reseller/roles/{owner_role_id}/edit", {"name": "Dono", "permissions": []})
    owner.post(f"/reseller/roles/{owner_role_id}/delete")
    kept = role(app, owner_role_id)
    assert kept.name == "Owner" and kept.is_owner
    assert kept.effective_permissions == set(perm.STAFF_PERMISSIONS)
    assert not events(app, "role.updated") and not events(app, "role.deleted")


def test_nobody_adds_a_permission_they_lack_nor_edits_the_role_they_hold(app, tenants, factory, make_browser):
    admin = factory.staff(tenants.a.id, [perm.CLIENTS, perm.STAFF_SETTINGS], email="admin@a.test")
    browser = make_browser()
    browser.login("admin@a.test")
    refused = browser.post(
        "/reseller/roles/new",
        {"name": "Poder", "permissions": [perm.CLIENTS, perm.DELETE_CLIENTS]},
        headers=EN,
    )
    assert refused.status_code == 422 and "permissions you have yourself" in refused.get_data(as_text=True)
    assert role_id_named(app, tenants.a.id, "Poder") is None
    # Within their own rights they may.
    assert (
        browser.post("/reseller/roles/new", {"name": "Leve", "permissions": [perm.CLIENTS]}).status_code
        == 302
    )
    # A role holding more than them: they may remove from it, never add.
    with app.app_context():
        wide = Role(reseller_id=tenants.a.id, name="Largo", permissions=[perm.CLIENTS, perm.PLANS])
        db.session.add(wide)
        db.session.commit()
        wide_id = wide.id
    added = browser.post(
        f"/reseller/roles/{wide_id}/edit",
        {"name": "Largo", "permissions": [perm.CLIENTS, perm.PLANS, perm.API]},
    )
    assert added.status_code == 422 and perm.API not in role(app, wide_id).permissions
    kept = browser.post(f"/reseller/roles/{wide_id}/edit", {"name": "Largo", "permissions": [perm.PLANS]})
    assert kept.status_code == 302 and role(app, wide_id).permissions == [perm.PLANS]
    # Their own role: another member must change it.
    own = browser.post(
        f"/reseller/roles/{admin.role_id}/edit", {"name": "Meu", "permissions": [perm.CLIENTS]}, headers=EN
    )
    assert own.status_code == 422 and "You hold this role" in own.get_data(as_text=True)
    assert sorted(role(app, admin.role_id).permissions) == [perm.CLIENTS, perm.STAFF_SETTINGS]


def test_a_role_change_applies_to_its_staff_from_the_next_request(app, tenants, owner, factory, make_browser):
    member = factory.staff(tenants.a.id, [perm.CLIENTS], email="vendas@a.test")
    browser = make_browser()
    browser.login("vendas@a.test")
    assert browser.get("/reseller/plans").status_code == 403
    owner.post(
        f"/reseller/roles/{member.role_id}/edit",
        {"name": "Vendas", "permissions": [perm.CLIENTS, perm.PLANS]},
    )
    assert browser.get("/reseller/plans").status_code == 200
    owner.post(f"/reseller/roles/{member.role_id}/edit", {"name": "Vendas", "permissions": [perm.CLIENTS]})
    assert browser.get("/reseller/plans").status_code == 403


def test_the_panel_links_follow_each_members_rights_section_and_locale(tenants, owner, factory, make_browser):
    """The navigation is rendered once per language, section and set of rights and then
    reused (reseller.views.blueprint.panel_nav): each member still sees their own."""
    member = factory.staff(tenants.a.id, [perm.CLIENTS], email="vendas@a.test")
    browser = make_browser()
    browser.login("vendas@a.test")

    def links(who, path="/reseller/clients"):
        page = who.get(path).get_data(as_text=True)
        nav = page[page.index('<ul class="navbar-nav me-auto">') :]
        nav = nav[: nav.index("</ul>")]
        return re.findall(r'class="(?:nav-link|dropdown-item) ?(active)?" href="([^"]+)"', nav)

    everything = [href for _active, href in links(owner)]
    assert {"/reseller/plans", "/reseller/staff", "/reseller/roles", "/reseller/desks"} <= set(everything)
    assert [href for _active, href in links(browser)] == [
        "/reseller/clients",
        "/reseller/domains",
        "/reseller/settings/custom-fields",
    ]
    owner.post(
        f"/reseller/roles/{member.role_id}/edit",
        {"name": "Vendas", "permissions": [perm.CLIENTS, perm.PLANS]},
    )
    assert ("active", "/reseller/plans") in links(browser, "/reseller/plans")
    assert ("active", "/reseller/clients") in links(browser)
    # The reseller's set-up pages are in the Administration menu, shown open where one is.
    roles_page = owner.get("/reseller/roles").get_data(as_text=True)
    assert 'class="nav-link dropdown-toggle active"' in roles_page
    assert 'class="dropdown-item active" href="/reseller/roles" aria-current="page"' in roles_page
    assert 'class="nav-link dropdown-toggle "' in owner.get("/reseller/plans").get_data(as_text=True)
    assert [href for _active, href in links(owner)] == everything
    owner.post("/lang", {"lang": "en", "next": "/reseller/clients"})
    assert "Service desks" in owner.get("/reseller/clients").get_data(as_text=True)
    assert "Mesas de serviço" not in owner.get("/reseller/clients").get_data(as_text=True)
    assert "Service desks" not in browser.get("/reseller/clients").get_data(as_text=True)


def test_another_resellers_role_is_a_404_and_a_role_without_the_permission_is_403(
    app, tenants, owner, factory, make_browser
):
    b_role = role_id_named(app, tenants.b.id, "Owner")
    assert owner.get(f"/reseller/roles/{b_role}/edit").status_code == 404
    assert owner.post(f"/reseller/roles/{b_role}/edit", {"name": "x"}).status_code == 404
    assert owner.post(f"/reseller/roles/{b_role}/delete").status_code == 404
    factory.staff(tenants.a.id, [perm.CLIENTS], email="sem@a.test")
    browser = make_browser()
    browser.login("sem@a.test")
    a_role = role_id_named(app, tenants.a.id, "Owner")
    assert browser.get("/reseller/roles").status_code == 403
    assert browser.get("/reseller/roles/new").status_code == 403
    assert browser.post("/reseller/roles/new", {"name": "x"}).status_code == 403
    assert browser.post(f"/reseller/roles/{a_role}/delete").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Account.kind).join(Login).where(Login.email == "sem@a.test")) == STAFF

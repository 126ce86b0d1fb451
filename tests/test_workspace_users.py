"""Client users with the *manage users* permission manage their own client's users."""

from __future__ import annotations

import re

from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from tests.conftest import Browser


def manager(app, factory, tenants, *, allowed: bool = True):
    created = factory.user(tenants.a.client.id, email="gerente@alpha.test", name="Gerente")
    with app.app_context():
        # A manager holds the portal, as every new user does (issue 15).
        db.session.get(Account, created.id).permissions = [perm.MANAGE_USERS, perm.PORTAL] if allowed else []
        db.session.commit()
    browser = Browser(app)
    browser.login("gerente@alpha.test")
    browser.account_id = created.id
    return browser


def test_without_the_permission_the_page_is_refused(app, factory, tenants):
    browser = manager(app, factory, tenants, allowed=False)
    assert browser.get("/app/users").status_code == 403
    assert browser.post("/app/users", {"name": "X", "email": "x@alpha.test"}).status_code == 403
    assert 'href="/app/users"' not in browser.get("/app/").get_data(as_text=True)


def test_a_manager_lists_adds_edits_and_deactivates_users_of_their_client(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    browser = manager(app, factory, tenants)
    other_client = factory.client(tenants.a.id, trade_name="Vizinha")
    outsider = factory.user(other_client.id, email="fora@vizinha.test", name="De Fora")
    page = browser.get("/app/users").get_data(as_text=True)
    assert "Gerente" in page and "De Fora" not in page
    assert 'href="/app/users"' in browser.get("/app/").get_data(as_text=True)

    added = browser.post("/app/users", {"name": "Nova", "email": "nova@alpha.test", "view_phones": "y"})
    assert added.status_code == 303
    run_jobs()
    assert re.search(r"/password/set/\S+", mailbox.to("nova@alpha.test")[-1]["text"])
    with app.app_context():
        new = db.session.scalar(select(Account).where(Account.name == "Nova"))
        assert (new.client_id, new.chat_level, new.view_phones) == (tenants.a.client.id, 6, True)
        new_id = new.id

    assert browser.post(f"/app/users/{new_id}", {"name": "Nova Silva", "chat_level": "2"}).status_code == 303
    with app.app_context():
        account = db.session.get(Account, new_id)
        assert (account.name, account.chat_level, account.view_phones) == ("Nova Silva", 2, False)

    assert browser.post(f"/app/users/{outsider.id}", {"name": "Hack", "chat_level": "6"}).status_code == 404
    assert browser.post(f"/app/users/{outsider.id}/deactivate").status_code == 404

    colleague = factory.user(tenants.a.client.id, email="colega@alpha.test")
    their_session = make_browser()
    their_session.login("colega@alpha.test")
    browser.post(f"/app/users/{colleague.id}/deactivate")
    assert their_session.get("/app/").status_code == 302
    browser.post(f"/app/users/{browser.account_id}/deactivate")
    assert browser.get("/app/users").status_code == 200  # cannot deactivate yourself


def test_bad_input_changes_nothing(app, factory, tenants):
    browser = manager(app, factory, tenants)
    # Bad input aimed at a colleague (a manager's own row is read-only to it: see
    # tests/test_client_user_limits.py).
    colleague = factory.user(tenants.a.client.id, email="colega@alpha.test", name="Colega")
    refused = browser.post("/app/users", {"name": "", "email": "not-an-email"})
    assert refused.status_code == 422
    with app.app_context():
        count = len(db.session.scalars(select(Account).where(Account.client_id == tenants.a.client.id)).all())
    assert browser.post(f"/app/users/{colleague.id}", {"name": "", "chat_level": "9"}).status_code == 303
    with app.app_context():
        other = db.session.get(Account, colleague.id)
        assert other.name == "Colega" and other.chat_level == 6
        assert (
            len(db.session.scalars(select(Account).where(Account.client_id == tenants.a.client.id)).all())
            == count
        )


def test_staff_grant_the_permission_on_the_users_edit_page(app, factory, tenants, browser):
    user = factory.user(tenants.a.client.id, email="promove@alpha.test", name="Promovida")
    browser.login("owner@a.test")
    url = f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/edit"
    assert 'id="workspace-permissions"' in browser.get(url).get_data(as_text=True)
    ok = browser.post(
        url,
        {"name": "Promovida", "chat_level": "6", "view_phones": "y", "workspace_permissions": "manage_users"},
    )
    assert ok.status_code == 302
    with app.app_context():
        assert db.session.get(Account, user.id).permissions == ["manage_users"]
    assert 'value="manage_users" checked' in browser.get(url).get_data(as_text=True) or re.search(
        r'checked[^>]*value="manage_users"', browser.get(url).get_data(as_text=True)
    )
    bad = browser.post(
        url,
        {"name": "Promovida", "chat_level": "6", "view_phones": "y", "workspace_permissions": "superuser"},
    )
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.get(Account, user.id).permissions == ["manage_users"]

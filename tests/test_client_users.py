"""Staff manage a client's users (seed 002 "Usuário"): list, add (invitation link,
initial password, or joining the login an e-mail already has), edit, deactivate
(ending sessions at once) and reactivate; permission, tenancy, mass assignment, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import STAFF, Account, AuthSession, Login
from core.extensions import db
from core.models import AuditEvent
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
CODE = re.compile(r"^\s+(\d{6})\s*$", re.M)
LINK = re.compile(r"http://a\.test(/password/set/\S+)")
NEW_PASSWORD = "uma frase longa e segura 2026"


# --- helpers ------------------------------------------------------------------------


@pytest.fixture
def owner(tenants, make_browser):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


def users_url(client_id: int) -> str:
    return f"/reseller/clients/{client_id}/users"


def new_user(owner, client_id: int, /, **fields):
    data = {"name": "Pessoa Nova", "chat_level": "6", "view_phones": "y", "access": "invite", **fields}
    return owner.post(f"{users_url(client_id)}/new", data, headers=EN)


def account_in(app, client_id: int, email: str) -> Account | None:
    with app.app_context():
        account = db.session.scalar(
            select(Account).join(Login).where(Account.client_id == client_id, Login.email == email)
        )
        if account is not None:
            db.session.expunge(account)
        return account


def logins_with(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Login).where(Login.email == email))


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for event in events:
            db.session.expunge(event)
        return list(events)


def owner_account_id(app, email: str = "owner@a.test") -> int:
    with app.app_context():
        return db.session.scalar(
            select(Account.id).join(Login).where(Login.email == email, Account.kind == STAFF)
        )


def mailed_code(mailbox, run_jobs, email: str) -> str:
    run_jobs()
    return CODE.search(mailbox.to(email)[-1]["text"]).group(1)


# --- list ---------------------------------------------------------------------------


def test_the_list_shows_only_this_clients_users_with_their_permissions(app, factory, tenants, owner):
    factory.user(tenants.a.client.id, email="ana@alpha.test", name="Ana Alpha")
    other = factory.client(tenants.a.id, trade_name="Outra")
    factory.user(other.id, email="bia@outra.test", name="Bia Outra")
    factory.user(tenants.b.client.id, email="caio@beta.test", name="Caio Beta")
    response = owner.get(users_url(tenants.a.client.id), headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ana Alpha" in page and "ana@alpha.test" in page
    assert "Bia Outra" not in page and "Caio Beta" not in page
    rows = re.findall(r'<tr data-user-id="(\d+)"', page)
    with app.app_context():
        expected = db.session.scalars(
            select(Account.id).where(Account.client_id == tenants.a.client.id, Account.kind == "client_user")
        ).all()
    assert sorted(map(int, rows)) == sorted(expected) and len(rows) == 2
    for text in ("Chat level", "View phones", "Status", "Last login", "Active", "Add user", "Log in as"):
        assert text in page
    assert f"{users_url(tenants.a.client.id)}/new" in page


def test_the_list_speaks_portuguese_by_default(tenants, owner):
    page = owner.get(users_url(tenants.a.client.id)).get_data(as_text=True)
    assert "Adicionar usuário" in page and "Nível de chat" in page


def test_the_client_list_has_a_users_button_only_for_staff_with_client_users(
    app, factory, tenants, owner, make_browser
):
    listing = owner.get("/reseller/clients").get_data(as_text=True)
    assert f'href="/reseller/clients/{tenants.a.client.id}/users" data-users-link' in listing
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clientes@a.test")
    staff = make_browser()
    staff.login("clientes@a.test")
    listing = staff.get("/reseller/clients").get_data(as_text=True)
    assert str(tenants.a.client.id) in listing and "data-users-link" not in listing


# --- add ----------------------------------------------------------------------------


def test_add_with_a_new_email_mails_an_invitation_whose_link_lets_the_user_log_in(
    app, tenants, owner, make_browser, mailbox, run_jobs
):
    response = new_user(owner, tenants.a.client.id, name="Nova Pessoa", email="Nova@Alpha.test")
    assert response.status_code == 302
    assert response.headers["Location"] == users_url(tenants.a.client.id)
    account = account_in(app, tenants.a.client.id, "nova@alpha.test")
    assert account.name == "Nova Pessoa" and account.kind == "client_user" and account.active
    with app.app_context():
        login = db.session.get(Login, account.login_id)
        assert login.password_hash is None and login.verified_at is None
    flash = owner.get(users_url(tenants.a.client.id), headers=EN).get_data(as_text=True)
    assert "an invitation was sent to nova@alpha.test" in flash

    run_jobs()
    [mail] = mailbox.to("nova@alpha.test")
    assert "Reseller A" in mail["subject"]
    path = LINK.search(mail["text"]).group(1)
    invited = make_browser()
    assert invited.get(path).status_code == 200
    done = invited.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.headers["Location"] == "/login"
    # The link came by e-mail and so proved the address: no first-login code.
    assert invited.login("nova@alpha.test", NEW_PASSWORD).headers["Location"] == "/app/"
    assert invited.get("/app/").status_code == 200
    [created] = audit_events(app, "client_user.created")
    assert created.details == {"access": "invited"} and created.object_id == str(account.id)
    assert created.actor_account_id == owner_account_id(app) and created.client_id == tenants.a.client.id
    assert audit_events(app, "auth.password_link_sent.invite")


def test_new_users_default_to_chat_level_6_and_may_view_phones(app, tenants, owner):
    form = owner.get(f"{users_url(tenants.a.client.id)}/new").get_data(as_text=True)
    assert re.search(r'<option selected value="6">|<option value="6" selected>', form)
    assert re.search(r'<input[^>]*checked[^>]*id="view_phones"|<input[^>]*id="view_phones"[^>]*checked', form)
    assert re.search(r'<input[^>]*checked[^>]*value="invite"|<input[^>]*value="invite"[^>]*checked', form)
    # What a browser sends for the untouched form.
    assert new_user(owner, tenants.a.client.id, email="padrao@alpha.test").status_code == 302
    account = account_in(app, tenants.a.client.id, "padrao@alpha.test")
    assert (account.chat_level, account.view_phones, account.permissions) == (6, True, [])
    # Unchecking "view phones" is honoured.
    new_user(owner, tenants.a.client.id, email="sem-fone@alpha.test", chat_level="3", view_phones="")
    account = account_in(app, tenants.a.client.id, "sem-fone@alpha.test")
    assert (account.chat_level, account.view_phones) == (3, False)


def test_an_initial_password_is_checked_and_a_refusal_changes_nothing(
    app, tenants, owner, make_browser, mailbox, run_jobs
):
    for weak in ("curta123", "password1234", "fraca@alpha.test"):
        refused = new_user(
            owner, tenants.a.client.id, email="fraca@alpha.test", access="password", password=weak
        )
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert "Nothing was saved" in page and ("12 characters" in page or "too common" in page)
        assert weak not in page.replace('value="fraca@alpha.test"', "")  # never echoed back
    assert logins_with(app, "fraca@alpha.test") == 0
    assert audit_events(app, "client_user.created") == []
    run_jobs()
    assert mailbox.to("fraca@alpha.test") == []

    ok = new_user(
        owner, tenants.a.client.id, email="forte@alpha.test", access="password", password=NEW_PASSWORD
    )
    assert ok.status_code == 302
    run_jobs()
    assert mailbox.to("forte@alpha.test") == []  # no invitation
    browser = make_browser()
    first = browser.post("/login", {"email": "forte@alpha.test", "password": NEW_PASSWORD})
    assert first.headers["Location"] == "/login/code"  # a new login still proves its e-mail once
    code = mailed_code(mailbox, run_jobs, "forte@alpha.test")
    assert browser.post("/login/code", {"code": code}).headers["Location"] == "/app/"
    assert browser.get("/app/").status_code == 200
    [created] = audit_events(app, "client_user.created")
    assert created.details == {"access": "password"} and NEW_PASSWORD not in str(created.details)


def test_an_email_with_a_login_in_another_client_joins_it_and_keeps_its_password(
    app, factory, tenants, owner, make_browser, mailbox, run_jobs
):
    gama = factory.client(tenants.a.id, trade_name="Gama Comércio")
    existing = factory.user(gama.id, email="multi@a.test", name="Multi em Gama")
    check = owner.get(f"{users_url(tenants.a.client.id)}/email-check?email=MULTI@a.test", headers=EN)
    assert check.status_code == 200
    partial = check.get_data(as_text=True)
    assert 'id="joins-login"' in partial and "(in 1 other client)" in partial
    assert "join it and keep its password" in partial
    assert "Gama" not in partial and str(gama.id) not in partial  # which clients stays private
    with app.app_context():
        password_hash = db.session.get(Login, existing.login_id).password_hash

    response = new_user(
        owner,
        tenants.a.client.id,
        name="Multi em Alpha",
        email="multi@a.test",
        access="password",
        password="uma senha que seria ignorada",
    )
    assert response.status_code == 302
    joined = account_in(app, tenants.a.client.id, "multi@a.test")
    assert joined.login_id == existing.login_id and joined.chat_level == 6 and joined.view_phones
    assert logins_with(app, "multi@a.test") == 1
    with app.app_context():
        assert db.session.get(Login, existing.login_id).password_hash == password_hash
    run_jobs()
    assert mailbox.to("multi@a.test") == []  # it has a password: no invitation
    [event] = audit_events(app, "client_user.joined_login")
    assert event.details["login_id"] == existing.login_id and event.object_id == str(joined.id)
    assert audit_events(app, "client_user.created") == []

    # The person now has two accounts and chooses one after the (unchanged) password.
    person = make_browser()
    assert person.post("/login", {"email": "multi@a.test", "password": PASSWORD}).headers["Location"] == (
        "/login/account"
    )
    chooser = person.get("/login/account").get_data(as_text=True)
    assert "Alpha A" in chooser and "Gama Comércio" in chooser
    assert person.post("/login/account", {"account_id": joined.id}).headers["Location"] == "/app/"


def test_joining_a_login_that_never_chose_a_password_mails_it_an_invitation(
    app, factory, tenants, owner, mailbox, run_jobs
):
    gama = factory.client(tenants.a.id, trade_name="Gama")
    assert new_user(owner, gama.id, email="pendente@a.test").status_code == 302  # invited, never answered
    run_jobs()
    mailbox.clear()
    response = new_user(owner, tenants.a.client.id, email="pendente@a.test")
    assert response.status_code == 302
    assert logins_with(app, "pendente@a.test") == 1
    page = owner.get(users_url(tenants.a.client.id), headers=EN).get_data(as_text=True)
    assert "which has no password yet: an invitation was sent" in page
    run_jobs()
    [mail] = mailbox.to("pendente@a.test")
    assert LINK.search(mail["text"])
    [event] = audit_events(app, "client_user.joined_login")
    assert event.details["access"] == "joined_invited"


def test_the_email_check_answers_for_this_reseller_only(app, factory, tenants, owner):
    url = f"{users_url(tenants.a.client.id)}/email-check"
    factory.user(tenants.b.client.id, email="so-na-b@beta.test")
    factory.user(tenants.a.client.id, email="ja@alpha.test")
    assert "joins-login" not in owner.get(f"{url}?email=so-na-b@beta.test").get_data(as_text=True)
    assert "joins-login" not in owner.get(f"{url}?email=ninguem@alpha.test").get_data(as_text=True)
    assert "joins-login" not in owner.get(f"{url}?email=not-an-email").get_data(as_text=True)
    already = owner.get(f"{url}?email=ja@alpha.test", headers=EN).get_data(as_text=True)
    assert 'id="already-user"' in already and "already a user of this client" in already
    # The owner's staff login can join a client too: no count of clients to show.
    staff_login = owner.get(f"{url}?email=owner@a.test", headers=EN).get_data(as_text=True)
    assert 'id="joins-login"' in staff_login and "other client" not in staff_login


def test_an_email_from_another_reseller_gets_a_new_login_here(app, factory, tenants, owner):
    b_user = factory.user(tenants.b.client.id, email="gente@duas.test")
    assert new_user(owner, tenants.a.client.id, email="gente@duas.test").status_code == 302
    here = account_in(app, tenants.a.client.id, "gente@duas.test")
    assert here.login_id != b_user.login_id and logins_with(app, "gente@duas.test") == 2


def test_the_same_email_twice_in_one_client_is_refused(app, factory, tenants, owner):
    factory.user(tenants.a.client.id, email="dup@alpha.test", name="Primeira")
    response = new_user(owner, tenants.a.client.id, name="Segunda", email="DUP@alpha.test ")
    assert response.status_code == 422
    assert "This e-mail is already a user of this client." in response.get_data(as_text=True)
    with app.app_context():
        names = db.session.scalars(
            select(Account.name).join(Login).where(Login.email == "dup@alpha.test")
        ).all()
    assert names == ["Primeira"]
    assert audit_events(app, "client_user.created") == audit_events(app, "client_user.joined_login") == []


def test_bad_input_gets_a_clear_message_and_changes_nothing(app, tenants, owner):
    cases = [
        ({"email": "sem-arroba"}, "Enter a valid e-mail address."),
        ({"email": "x@alpha.test", "name": ""}, "This field is required."),
        ({"email": "x@alpha.test", "name": "N" * 121}, "Field cannot be longer than 120 characters."),
        ({"email": "x@alpha.test", "chat_level": "7"}, "Not a valid choice."),
        ({"email": "x@alpha.test", "access": "password", "password": ""}, "Use at least 12 characters."),
    ]
    for fields, message in cases:
        response = new_user(owner, tenants.a.client.id, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert logins_with(app, "x@alpha.test") == 0


# --- edit ---------------------------------------------------------------------------


def test_edit_changes_name_chat_level_and_phones_and_shows_the_email_read_only(app, factory, tenants, owner):
    user = factory.user(tenants.a.client.id, email="edita@alpha.test", name="Antes")
    url = f"{users_url(tenants.a.client.id)}/{user.id}/edit"
    form = owner.get(url).get_data(as_text=True)
    assert 'value="Antes"' in form and re.search(r'<input[^>]*value="edita@alpha.test"[^>]*disabled', form)
    assert 'name="email"' not in form and 'name="password"' not in form
    # "view phones" unchecked; the portal, every new user's, kept.
    response = owner.post(url, {"name": "Depois", "chat_level": "2", "workspace_permissions": "portal"})
    assert response.status_code == 302
    with app.app_context():
        account = db.session.get(Account, user.id)
        assert (account.name, account.chat_level, account.view_phones) == ("Depois", 2, False)
        assert account.login.email == "edita@alpha.test"
    [event] = audit_events(app, "client_user.updated")
    assert event.details["changed"] == {
        "name": ["Antes", "Depois"],
        "chat_level": [6, 2],
        "view_phones": [True, False],
    }
    refused = owner.post(url, {"name": "", "chat_level": "2"})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Account, user.id).name == "Depois"


MASS_ASSIGNMENT = {
    "reseller_id": "0",
    "kind": "staff",
    "permissions": perm.MANAGE_USERS,
    "role_id": "1",
    "active": "0",
}


def test_tenant_login_kind_and_permission_fields_are_never_bound_from_the_form(app, factory, tenants, owner):
    other_login = factory.user(tenants.a.client.id, email="alheio@alpha.test").login_id
    hostile = {
        **MASS_ASSIGNMENT,
        "reseller_id": str(tenants.b.id),
        "client_id": str(tenants.b.client.id),
        "login_id": str(other_login),
    }
    assert new_user(owner, tenants.a.client.id, email="massa@alpha.test", **hostile).status_code == 302
    created = account_in(app, tenants.a.client.id, "massa@alpha.test")
    assert (created.reseller_id, created.client_id) == (tenants.a.id, tenants.a.client.id)
    assert created.kind == "client_user" and created.permissions == [] and created.role_id is None
    assert created.login_id != other_login and created.active

    url = f"{users_url(tenants.a.client.id)}/{created.id}/edit"
    edit = owner.post(
        url, {"name": "Massa", "chat_level": "6", "view_phones": "y", "email": "novo@x.test", **hostile}
    )
    assert edit.status_code == 302
    with app.app_context():
        account = db.session.get(Account, created.id)
        assert (account.reseller_id, account.client_id, account.login_id) == (
            tenants.a.id,
            tenants.a.client.id,
            created.login_id,
        )
        assert account.kind == "client_user" and account.permissions == [] and account.role_id is None
        assert account.active and account.login.email == "massa@alpha.test"


# --- deactivate / reactivate --------------------------------------------------------


def test_deactivation_ends_the_users_live_session_at_once_and_reactivation_lets_them_in_again(
    app, factory, tenants, owner, make_browser
):
    user = factory.user(tenants.a.client.id, email="sai@alpha.test", name="Sai Logo")
    person = make_browser()
    person.login("sai@alpha.test")
    assert person.get("/app/").status_code == 200

    response = owner.post(f"{users_url(tenants.a.client.id)}/{user.id}/deactivate", headers=EN)
    assert response.status_code == 302
    after = person.get("/app/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    with app.app_context():
        live = db.session.scalars(
            select(AuthSession).where(AuthSession.account_id == user.id, AuthSession.revoked_at.is_(None))
        ).all()
        assert live == [] and db.session.get(Account, user.id).active is False
    listing = owner.get(users_url(tenants.a.client.id), headers=EN).get_data(as_text=True)
    row = re.search(rf'<tr data-user-id="{user.id}".*?</tr>', listing, re.S).group(0)
    assert "Inactive" in row and "/reactivate" in row and "/deactivate" not in row and "login-as" not in row
    refused = make_browser().post("/login", {"email": "sai@alpha.test", "password": PASSWORD})
    assert refused.status_code == 200 and "Location" not in refused.headers
    [event] = audit_events(app, "client_user.deactivated")
    assert event.details == {"sessions_ended": 1}

    assert owner.post(f"{users_url(tenants.a.client.id)}/{user.id}/reactivate").status_code == 302
    assert make_browser().login("sai@alpha.test").headers["Location"] == "/app/"
    assert person.get("/app/").status_code == 302  # the ended session stays ended
    assert len(audit_events(app, "client_user.reactivated")) == 1
    # Repeating either action changes nothing and writes nothing.
    owner.post(f"{users_url(tenants.a.client.id)}/{user.id}/reactivate")
    assert len(audit_events(app, "client_user.reactivated")) == 1


def test_deactivation_also_ends_an_impersonation_of_that_user(app, factory, tenants, owner, make_browser):
    user = factory.user(tenants.a.client.id, email="alvo@alpha.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    support = make_browser()
    support.login("suporte@a.test")
    started = support.post(f"{users_url(tenants.a.client.id)}/{user.id}/login-as")
    assert started.headers["Location"] == "/app/"
    owner.post(f"{users_url(tenants.a.client.id)}/{user.id}/deactivate")
    assert support.get("/app/").status_code != 200


# --- permission, tenancy, CSRF ------------------------------------------------------


def routes(client_id: int, account_id: int) -> list[tuple[str, str]]:
    base = users_url(client_id)
    return [
        ("GET", base),
        ("GET", f"{base}/new"),
        ("POST", f"{base}/new"),
        ("GET", f"{base}/email-check?email=x@alpha.test"),
        ("GET", f"{base}/{account_id}/edit"),
        ("POST", f"{base}/{account_id}/edit"),
        ("POST", f"{base}/{account_id}/deactivate"),
        ("POST", f"{base}/{account_id}/reactivate"),
    ]


def call(browser, method: str, path: str):
    if method == "GET":
        return browser.get(path)
    return browser.post(path, {"name": "Invasor", "email": "invasor@x.test", "chat_level": "1"})


def test_staff_without_the_client_users_permission_get_403_everywhere(app, factory, tenants, make_browser):
    user = factory.user(tenants.a.client.id, email="alvo@alpha.test", name="Alvo")
    factory.staff(
        tenants.a.id,
        permissions=sorted(set(perm.STAFF_PERMISSIONS) - {perm.CLIENT_USERS}),
        email="quase@a.test",
    )
    staff = make_browser()
    staff.login("quase@a.test")
    for method, path in routes(tenants.a.client.id, user.id):
        assert call(staff, method, path).status_code == 403, (method, path)
    with app.app_context():
        account = db.session.get(Account, user.id)
        assert (account.name, account.chat_level, account.active) == ("Alvo", 6, True)
    assert logins_with(app, "invasor@x.test") == 0


def test_a_client_user_gets_403_on_the_panel(factory, tenants, make_browser):
    user = factory.user(tenants.a.client.id, email="gente@alpha.test")
    person = make_browser()
    person.login("gente@alpha.test")
    for method, path in routes(tenants.a.client.id, user.id):
        assert call(person, method, path).status_code == 403, (method, path)


def test_another_resellers_client_or_user_is_404_on_every_route(app, factory, tenants, owner):
    b_user = factory.user(tenants.b.client.id, email="gente@beta.test", name="Gente B")
    a_user = factory.user(tenants.a.client.id, email="gente@alpha.test", name="Gente A")
    sibling = factory.client(tenants.a.id, trade_name="Irmão")
    sibling_user = factory.user(sibling.id, email="irmao@alpha.test", name="Irmão")
    staff_account = owner_account_id(app)
    # B's client: every route, whatever the account.
    for method, path in routes(tenants.b.client.id, b_user.id):
        assert call(owner, method, path).status_code == 404, (method, path)
    # A client of A, but an account that is not one of its users.
    for client_id, account_id in [
        (tenants.a.client.id, b_user.id),  # B's user
        (tenants.a.client.id, sibling_user.id),  # a user of another client of A
        (tenants.a.client.id, staff_account),  # a staff account is not a client user
        (sibling.id, a_user.id),  # A's user through the wrong client
        (tenants.a.client.id, 987654),
    ]:
        for method, path in routes(client_id, account_id):
            if f"/users/{account_id}/" in path:
                assert call(owner, method, path).status_code == 404, (method, path)
    with app.app_context():
        for account_id, name in ((b_user.id, "Gente B"), (sibling_user.id, "Irmão"), (a_user.id, "Gente A")):
            account = db.session.get(Account, account_id)
            assert (account.name, account.active, account.chat_level) == (name, True, 6)
        assert db.session.get(Account, staff_account).active
        b_accounts = db.session.scalar(
            select(func.count()).select_from(Account).where(Account.client_id == tenants.b.client.id)
        )
    assert b_accounts == 2
    assert logins_with(app, "invasor@x.test") == 0


def test_every_form_needs_the_csrf_token(app, factory, tenants, owner):
    user = factory.user(tenants.a.client.id, email="csrf@alpha.test", name="Sem Token")
    for method, path in routes(tenants.a.client.id, user.id):
        if method == "POST":
            response = owner.post(path, {"name": "Outro", "email": "outro@alpha.test"}, csrf=False)
            assert response.status_code == 400, path
    with app.app_context():
        account = db.session.get(Account, user.id)
        assert (account.name, account.active) == ("Sem Token", True)
    assert logins_with(app, "outro@alpha.test") == 0

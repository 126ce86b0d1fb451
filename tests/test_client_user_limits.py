"""What a client user who may *manage users* can do (issue 10, "Hardening"):

- it grants at most what it holds (chat level, view phones, workspace permissions),
  when adding and when editing; its own row is read-only to it; it cannot change a user
  who holds more than it does; a user deactivated by staff is reactivated only by staff;
  the same limits bind staff logged in as that user; the page offers only that;
- adding an e-mail that already has a login is an invitation its owner accepts or
  declines, never a silent attach, and the answer reveals nothing about that login;
- adding a contact never confirms a phone number the user may not see.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from auth import permissions as perm
from auth.models import Account, Login
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from tenant.inbox_models import Contact, Conversation
from tests.conftest import PASSWORD, Browser

EN = {"Accept-Language": "en"}
INVITATION = re.compile(r"https?://[^\s/]+(/invitation/\S+)")
FLASH = re.compile(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', re.S)


# --- helpers ------------------------------------------------------------------------


def client_user(app, factory, client_id: int, email: str, *, level=6, phones=True, permissions=(), name=None):
    created = factory.user(client_id, email=email, name=name or email.split("@")[0].title())
    with app.app_context():
        account = db.session.get(Account, created.id)
        account.chat_level, account.view_phones = level, phones
        account.permissions = sorted(permissions)
        db.session.commit()
    return created.id


def logged_in(app, email: str, host: str = "a.test") -> Browser:
    browser = Browser(app, host)
    browser.login(email)
    return browser


def manager(app, factory, tenants, *, level=1, phones=False, permissions=(perm.MANAGE_USERS,)):
    """A manager of client A (by default level 1, without view phones) logged in."""
    account_id = client_user(
        app,
        factory,
        tenants.a.client.id,
        "gerente@alpha.test",
        level=level,
        phones=phones,
        permissions=permissions,
        name="Gerente",
    )
    browser = logged_in(app, "gerente@alpha.test")
    browser.account_id = account_id
    return browser


def state(app, account_id: int):
    with app.app_context():
        account = db.session.get(Account, account_id)
        if account is None:
            return None
        return (account.chat_level, account.view_phones, sorted(account.permissions or []), account.active)


def account_of(app, client_id: int, email: str) -> Account | None:
    with app.app_context():
        account = db.session.scalar(
            select(Account).join(Login).where(Account.client_id == client_id, Login.email == email)
        )
        if account is not None:
            db.session.expunge(account)
        return account


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def row_of(page: str, account_id: int) -> str:
    return re.search(rf'<tr data-user-id="{account_id}".*?</tr>', page, re.S).group(0)


def flashes(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", text).strip() for text in FLASH.findall(page)]


# --- 1. "manage users" grants at most what it holds -----------------------------------


def test_a_manager_cannot_change_its_own_level_phones_or_permissions(app, factory, tenants):
    me = manager(app, factory, tenants)
    raised = me.post(
        f"/app/users/{me.account_id}",
        {
            "name": "Gerente",
            "chat_level": "6",
            "view_phones": "y",
            "permissions": ["manage_users", "billing"],
        },
    )
    assert raised.status_code == 403
    assert state(app, me.account_id) == (1, False, ["manage_users"], True)
    # Not even by lowering: the row is read-only to its owner.
    assert me.post(f"/app/users/{me.account_id}", {"name": "Gerente", "chat_level": "1"}).status_code == 403
    assert state(app, me.account_id) == (1, False, ["manage_users"], True)
    assert events(app, "client_user.updated") == []


def test_adding_grants_at_most_the_managers_own_level_phones_and_permissions(app, factory, tenants):
    me = manager(app, factory, tenants)
    for data in (
        {"chat_level": "6"},  # above its own level 1
        {"chat_level": "1", "view_phones": "y"},  # phones it cannot see itself
        {"chat_level": "1", "permissions": "billing"},  # a permission it does not hold
    ):
        refused = me.post("/app/users", {"name": "Nova", "email": "nova@alpha.test", **data})
        assert refused.status_code == 422, data
        assert account_of(app, tenants.a.client.id, "nova@alpha.test") is None, data
    allowed = me.post(
        "/app/users",
        {"name": "Nova", "email": "nova@alpha.test", "chat_level": "1", "permissions": "manage_users"},
    )
    assert allowed.status_code == 303
    new = account_of(app, tenants.a.client.id, "nova@alpha.test")
    assert (new.chat_level, new.view_phones, new.permissions) == (1, False, ["manage_users"])


def test_editing_grants_at_most_what_the_manager_holds(app, factory, tenants):
    me = manager(app, factory, tenants)
    colleague = client_user(app, factory, tenants.a.client.id, "colega@alpha.test", level=1, phones=False)
    for data in (
        {"chat_level": "6"},
        {"chat_level": "1", "view_phones": "y"},
        {"chat_level": "1", "permissions": "billing"},
    ):
        answer = me.post(f"/app/users/{colleague}", {"name": "Colega", **data})
        assert answer.status_code == 303
        assert state(app, colleague) == (1, False, [], True), data
    assert "You can grant at most chat level 1." in " ".join(
        flashes(
            me.post(
                f"/app/users/{colleague}", {"name": "C", "chat_level": "6"}, follow_redirects=True, headers=EN
            ).get_data(as_text=True)
        )
    )
    ok = me.post(
        f"/app/users/{colleague}", {"name": "Colega", "chat_level": "1", "permissions": "manage_users"}
    )
    assert ok.status_code == 303
    assert state(app, colleague) == (1, False, ["manage_users"], True)


def test_a_manager_cannot_change_or_deactivate_a_user_who_holds_more(app, factory, tenants):
    me = manager(app, factory, tenants, level=3, phones=True)
    superiors = [
        client_user(app, factory, tenants.a.client.id, "nivel6@alpha.test", level=6),
        client_user(
            app, factory, tenants.a.client.id, "cobranca@alpha.test", level=3, permissions=["billing"]
        ),
    ]
    hidden = client_user(app, factory, tenants.a.client.id, "sem@alpha.test", level=1, phones=True)
    for superior in superiors:
        before = state(app, superior)
        assert me.post(f"/app/users/{superior}", {"name": "X", "chat_level": "1"}).status_code == 403
        assert me.post(f"/app/users/{superior}/deactivate").status_code == 403
        assert state(app, superior) == before
    # An equal is not a superior: it may be edited (here, lowered).
    assert me.post(f"/app/users/{hidden}", {"name": "Sem", "chat_level": "1"}).status_code == 303
    assert state(app, hidden) == (1, False, [], True)


def test_only_staff_reactivate_a_user_staff_deactivated(app, factory, tenants, make_browser):
    me = manager(app, factory, tenants, level=6, phones=True)
    user = client_user(app, factory, tenants.a.client.id, "afastada@alpha.test", level=1)
    staff = make_browser()
    staff.login("owner@a.test")
    base = f"/reseller/clients/{tenants.a.client.id}/users/{user}"
    assert staff.post(f"{base}/deactivate").status_code == 302
    with app.app_context():
        assert db.session.get(Account, user).deactivated_by_staff is True

    assert me.post(f"/app/users/{user}/reactivate").status_code == 403
    assert state(app, user)[3] is False
    row = row_of(me.get("/app/users", headers=EN).get_data(as_text=True), user)
    assert "/reactivate" not in row and "only the reseller can reactivate" in row

    assert staff.post(f"{base}/reactivate").status_code == 302
    with app.app_context():
        account = db.session.get(Account, user)
        assert account.active is True and account.deactivated_by_staff is False
    # Deactivated by the client's own manager: the manager may reactivate.
    assert me.post(f"/app/users/{user}/deactivate").status_code == 303
    with app.app_context():
        account = db.session.get(Account, user)
        assert account.active is False and account.deactivated_by_staff is False
    assert me.post(f"/app/users/{user}/reactivate").status_code == 303
    assert state(app, user)[3] is True


def test_staff_logged_in_as_the_manager_have_exactly_its_limits(app, factory, tenants, make_browser):
    me = manager(app, factory, tenants)
    factory.staff(tenants.a.id, permissions=sorted(perm.STAFF_PERMISSIONS), email="suporte@a.test")
    support = make_browser()
    support.login("suporte@a.test")
    started = support.post(f"/reseller/clients/{tenants.a.client.id}/users/{me.account_id}/login-as")
    assert started.headers["Location"] == "/app/"
    assert (
        support.post(
            f"/app/users/{me.account_id}", {"name": "Gerente", "chat_level": "6", "view_phones": "y"}
        ).status_code
        == 403
    )
    assert (
        support.post(
            "/app/users", {"name": "Nova", "email": "nova@alpha.test", "chat_level": "6", "view_phones": "y"}
        ).status_code
        == 422
    )
    assert state(app, me.account_id) == (1, False, ["manage_users"], True)
    assert account_of(app, tenants.a.client.id, "nova@alpha.test") is None


def test_the_page_offers_only_what_the_manager_may_grant(app, factory, tenants, make_browser):
    me = manager(app, factory, tenants, level=3)
    superior = client_user(app, factory, tenants.a.client.id, "chefe@alpha.test", level=6)
    equal = client_user(app, factory, tenants.a.client.id, "par@alpha.test", level=2, phones=False)
    benched = client_user(app, factory, tenants.a.client.id, "fora@alpha.test", level=1, phones=False)
    staff = make_browser()
    staff.login("owner@a.test")
    staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{benched}/deactivate")

    page = me.get("/app/users", headers=EN).get_data(as_text=True)
    add_form = page[page.index('id="user-level"') :]
    levels = re.findall(r'<option value="(\d)"', add_form[: add_form.index("</select>")])
    assert levels == ["1", "2", "3"]
    phones_box = re.search(r'<input[^>]*id="user-phones"[^>]*>', page).group(0)
    assert "disabled" in phones_box and "checked" not in phones_box
    assert 'value="manage_users"' in add_form and 'value="billing"' not in add_form

    own = row_of(page, me.account_id)
    assert f'action="/app/users/{me.account_id}"' not in own and "/deactivate" not in own
    assert "cannot change your own user" in own
    top = row_of(page, superior)
    assert f'action="/app/users/{superior}"' not in top and "/deactivate" not in top
    assert "permissions you do not have" in top
    peer = row_of(page, equal)
    assert f'action="/app/users/{equal}"' in peer and "/deactivate" in peer
    assert re.findall(r'<option value="(\d)"', peer) == ["1", "2", "3"]
    bench = row_of(page, benched)
    assert "/reactivate" not in bench and "only the reseller can reactivate" in bench


# --- 2. an existing login is invited, never silently attached ---------------------------


@pytest.fixture
def invite_scene(app, factory, tenants):
    """A full-powered manager of client A; a user of another client of the reseller."""
    me = manager(app, factory, tenants, level=6, phones=True)
    gama = factory.client(tenants.a.id, trade_name="Gama Comércio")
    factory.user(gama.id, email="multi@a.test", name="Multi em Gama")
    return me


def invitation_path(mailbox, run_jobs, email: str) -> str:
    run_jobs()
    return INVITATION.search(mailbox.to(email)[-1]["text"]).group(1)


def test_adding_an_existing_login_is_an_invitation_not_a_silent_attach(
    app, tenants, invite_scene, make_browser, mailbox, run_jobs
):
    me = invite_scene
    answers = {}
    for name, email in (("Dona", "owner@a.test"), ("Multi", "multi@a.test"), ("Nova", "nova@alpha.test")):
        added = me.post("/app/users", {"name": name, "email": email, "chat_level": "6", "view_phones": "y"})
        assert added.status_code == 303
        page = me.get("/app/users", headers=EN).get_data(as_text=True)
        answers[email] = [text.replace(name, "NAME") for text in flashes(page)]
    # The same answer for the staff owner, a user of another client and a new e-mail.
    assert answers["owner@a.test"] == answers["multi@a.test"] == answers["nova@alpha.test"]
    page = me.get("/app/users", headers=EN).get_data(as_text=True)
    assert "Gama" not in page and "staff" not in page.lower()
    for email in ("owner@a.test", "multi@a.test", "nova@alpha.test"):
        account = account_of(app, tenants.a.client.id, email)
        assert "Awaiting acceptance" in row_of(page, account.id), email

    owner_account = account_of(app, tenants.a.client.id, "owner@a.test")
    assert owner_account.awaiting_acceptance is True and owner_account.is_usable() is False
    # The owner is not offered the account: the password leads straight to the panel.
    owner = make_browser()
    assert owner.login("owner@a.test").headers["Location"] == "/reseller/clients"
    # Nor can staff log in as it.
    listing = owner.get(f"/reseller/clients/{tenants.a.client.id}/users", headers=EN).get_data(as_text=True)
    staff_row = row_of(listing, owner_account.id)
    assert "Awaiting acceptance" in staff_row and "login-as" not in staff_row
    refused = owner.post(f"/reseller/clients/{tenants.a.client.id}/users/{owner_account.id}/login-as")
    assert refused.headers.get("Location") != "/app/"

    path = invitation_path(mailbox, run_jobs, "owner@a.test")
    mail = mailbox.to("owner@a.test")[-1]
    assert "Alpha A" in mail["subject"] and "Gerente" in mail["text"]
    assert INVITATION.search(mailbox.to("multi@a.test")[-1]["text"])
    assert re.search(r"/password/set/\S+", mailbox.to("nova@alpha.test")[-1]["text"])
    [invited] = [e for e in events(app, "client_user.invited_login") if e.object_id == str(owner_account.id)]
    assert invited.details == {"login_id": owner_account.login_id}
    assert path.startswith("/invitation/")


def test_accepting_opens_the_account_once(app, tenants, invite_scene, make_browser, mailbox, run_jobs):
    me = invite_scene
    me.post("/app/users", {"name": "Multi em Alpha", "email": "multi@a.test", "chat_level": "2"})
    path = invitation_path(mailbox, run_jobs, "multi@a.test")
    # Whoever holds the link decides, whatever the browser is logged in as.
    holder = make_browser()
    holder.login("owner@a.test")
    page = holder.get(path, headers=EN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Gerente" in text and "Alpha A" in text and "multi@a.test" in text
    accepted = holder.post(path, {"decision": "accept"}, headers=EN)
    assert accepted.status_code == 303
    account = account_of(app, tenants.a.client.id, "multi@a.test")
    assert account.awaiting_acceptance is False and account.chat_level == 2
    [event] = events(app, "client_user.invitation_accepted")
    assert event.object_id == str(account.id) and event.actor_label == "multi@a.test"
    # Works once.
    assert holder.get(path).status_code == 404
    assert holder.post(path, {"decision": "decline"}).status_code == 404
    assert account_of(app, tenants.a.client.id, "multi@a.test") is not None
    person = make_browser()
    assert person.post("/login", {"email": "multi@a.test", "password": PASSWORD}).headers["Location"] == (
        "/login/account"
    )
    chooser = person.get("/login/account").get_data(as_text=True)
    assert "Alpha A" in chooser and "Gama Comércio" in chooser


def test_declining_deletes_the_waiting_account(app, tenants, invite_scene, make_browser, mailbox, run_jobs):
    me = invite_scene
    me.post("/app/users", {"name": "Multi", "email": "multi@a.test"})
    waiting = account_of(app, tenants.a.client.id, "multi@a.test")
    path = invitation_path(mailbox, run_jobs, "multi@a.test")
    declined = make_browser().post(path, {"decision": "decline"})
    assert declined.status_code == 303 and declined.headers["Location"] == "/login"
    assert account_of(app, tenants.a.client.id, "multi@a.test") is None
    with app.app_context():  # the login and its other account stay
        login = db.session.get(Login, waiting.login_id)
        assert [a.client.trade_name for a in login.accounts] == ["Gama Comércio"]
    [event] = events(app, "client_user.invitation_declined")
    assert event.object_id == str(waiting.id)
    assert make_browser().get(path).status_code == 404
    assert me.get("/app/users").status_code == 200


def test_a_login_without_a_password_is_sent_the_password_link_on_accepting(
    app, factory, tenants, invite_scene, make_browser, mailbox, run_jobs
):
    me = invite_scene
    staff = make_browser()
    staff.login("owner@a.test")
    other = factory.client(tenants.a.id, trade_name="Delta")
    staff.post(
        f"/reseller/clients/{other.id}/users/new",
        {
            "name": "Pendente",
            "email": "pendente@a.test",
            "chat_level": "6",
            "view_phones": "y",
            "access": "invite",
        },
    )
    me.post("/app/users", {"name": "Pendente", "email": "pendente@a.test"})
    path = invitation_path(mailbox, run_jobs, "pendente@a.test")
    mailbox.clear()
    assert make_browser().post(path, {"decision": "accept"}).status_code == 303
    run_jobs()
    assert re.search(r"/password/set/\S+", mailbox.to("pendente@a.test")[-1]["text"])


def test_the_link_is_404_elsewhere_forged_or_expired_and_needs_the_csrf_token(
    app, tenants, invite_scene, make_browser, mailbox, run_jobs
):
    me = invite_scene
    me.post("/app/users", {"name": "Multi", "email": "multi@a.test"})
    path = invitation_path(mailbox, run_jobs, "multi@a.test")
    other_reseller = make_browser("b.test")
    assert other_reseller.get(path).status_code == 404
    assert other_reseller.post(path, {"decision": "accept"}).status_code == 404
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert make_browser().get(forged).status_code == 404
    assert make_browser().post(path, {"decision": "accept"}, csrf=False).status_code == 400
    with time_machine.travel(utcnow() + timedelta(days=8), tick=False):
        assert make_browser().get(path).status_code == 404
    assert account_of(app, tenants.a.client.id, "multi@a.test").awaiting_acceptance is True
    assert make_browser().get(path).status_code == 200


def test_the_invitation_links_to_the_canonical_url_whatever_host_the_request_named(
    app, tenants, invite_scene, mailbox, run_jobs
):
    canonical = "https://atendimento.a.test:8443"
    with app.app_context():
        db.session.execute(
            update(Reseller).where(Reseller.id == tenants.a.id).values(canonical_url=canonical)
        )
        db.session.commit()
    foreign = logged_in(app, "gerente@alpha.test", host="evil-attacker.test")  # the default reseller answers
    added = foreign.post("/app/users", {"name": "Multi", "email": "multi@a.test"})
    assert added.status_code == 303
    run_jobs()
    links = re.findall(r"https?://\S+", mailbox.to("multi@a.test")[-1]["text"])
    assert links and all(link.startswith(canonical + "/invitation/") for link in links), links


# --- 3. a contact's hidden number is never confirmed ------------------------------------


def contact_user(app, factory, tenants, email: str, *, level: int, phones: bool) -> Browser:
    client_user(app, factory, tenants.a.client.id, email, level=level, phones=phones)
    return logged_in(app, email)


def existing_contact(app, tenants, *, assigned_to: int | None = None) -> int:
    with app.app_context():
        contact = Contact(
            reseller_id=tenants.a.id,
            client_id=tenants.a.client.id,
            name="Cliente Secreto",
            phone="5511987650021",
            email="secreto@x.test",
        )
        db.session.add(contact)
        db.session.flush()
        db.session.add(
            Conversation(
                reseller_id=tenants.a.id,
                client_id=tenants.a.client.id,
                contact_id=contact.id,
                assigned_account_id=assigned_to,
            )
        )
        db.session.commit()
        return contact.id


def contacts_with(app, phone: str) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [(c.name, c.email) for c in db.session.scalars(select(Contact).where(Contact.phone == phone))]


@pytest.mark.parametrize(
    "level,phones", [(6, False), (1, True)], ids=["without-view-phones", "outside-level"]
)
def test_adding_a_contact_never_confirms_a_number_the_user_may_not_see(app, factory, tenants, level, phones):
    someone = client_user(app, factory, tenants.a.client.id, "outro@alpha.test")
    existing_contact(app, tenants, assigned_to=someone)
    user = contact_user(app, factory, tenants, "sonda@alpha.test", level=level, phones=phones)
    taken = user.post("/app/contacts", {"name": "Sonda", "phone": "(11) 98765-0021"}, headers=EN)
    fresh = user.post("/app/contacts", {"name": "Sonda", "phone": "(11) 98765-0099"}, headers=EN)
    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    # Neither answer says anything about the number; the hidden contact is untouched.
    page = user.get("/app/contacts", headers=EN).get_data(as_text=True)
    assert "already exists" not in page
    assert contacts_with(app, "+5511987650021") == [("Cliente Secreto", "secreto@x.test")]
    assert contacts_with(app, "+5511987650099") == [("Sonda", None)]
    assert len(events(app, "inbox.contact_create_hidden_duplicate")) == 1


def test_a_user_who_sees_the_number_is_told_it_already_exists(app, factory, tenants):
    existing_contact(app, tenants)
    seer = contact_user(app, factory, tenants, "ve@alpha.test", level=6, phones=True)
    duplicate = seer.post("/app/contacts", {"name": "Outra", "phone": "(11) 98765-0021"}, headers=EN)
    assert duplicate.status_code == 422
    assert "A contact with this phone number already exists." in duplicate.get_data(as_text=True)
    assert contacts_with(app, "+5511987650021") == [("Cliente Secreto", "secreto@x.test")]


def test_probing_numbers_through_the_contact_form_is_throttled_per_user(app, factory, tenants):
    user = contact_user(app, factory, tenants, "sonda@alpha.test", level=6, phones=False)
    statuses = [
        user.post("/app/contacts", {"name": f"S{n}", "phone": f"11 98765-{n:04d}"}).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [303] * 30 and statuses[30] == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 30


def test_an_account_awaiting_acceptance_is_offered_nowhere_before_it_is_accepted(
    app, tenants, invite_scene, make_browser
):
    """Not as a conversation assignee or team member, nor as the client's responsible user."""
    me = invite_scene
    me.post("/app/users", {"name": "Multi em Alpha", "email": "multi@a.test", "chat_level": "2"})
    waiting = account_of(app, tenants.a.client.id, "multi@a.test")
    assert waiting.awaiting_acceptance
    me.post("/app/teams", {"name": "Vendas"})
    teams = me.get("/app/teams").get_data(as_text=True)
    assert f'value="{me.account_id}"' in teams and f'value="{waiting.id}"' not in teams
    owner = make_browser()
    owner.login("owner@a.test")
    edit = owner.get(f"/reseller/clients/{tenants.a.client.id}/edit").get_data(as_text=True)
    assert f'value="{me.account_id}"' in edit and f'value="{waiting.id}"' not in edit


def test_staff_can_keep_a_deactivation_a_manager_made(app, factory, tenants, make_browser):
    """Deactivating an already inactive user, staff take the deactivation over: the
    client's manager can no longer lift it."""
    me = manager(app, factory, tenants, level=6, phones=True)
    user = client_user(app, factory, tenants.a.client.id, "afastada@alpha.test", level=1)
    assert me.post(f"/app/users/{user}/deactivate").status_code == 303
    staff = make_browser()
    staff.login("owner@a.test")
    assert staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{user}/deactivate").status_code == 302
    with app.app_context():
        assert db.session.get(Account, user).deactivated_by_staff is True
    assert me.post(f"/app/users/{user}/reactivate").status_code == 403
    assert state(app, user)[3] is False

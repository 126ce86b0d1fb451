"""The reseller's staff (``/reseller/staff``, issue 12): list, invite by e-mail (a hashed,
single-use, expiring link on the canonical host), accept, edit, deactivate (ending every
session and "log in as" at once), reactivate, resend (throttled and capped); the last
owner, nobody changing their own role, tenancy, permission, audit before and after."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from auth import permissions as perm
from auth import staff, staff_invitations
from auth.models import STAFF, Account, AuthSession, Login, Role, StaffInvitation
from auth.sessions import hash_token
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from tests.conftest import PASSWORD

EN = {"Accept-Language": "en"}
LINK = re.compile(r"(https?://[^/\s]+)(/staff-invitation/(\S+))")
NEW_PASSWORD = "uma frase longa e segura 2026"


@pytest.fixture
def owner(tenants, make_browser):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


def account_of(app, email: str, reseller_id: int | None = None) -> Account | None:
    with app.app_context():
        stmt = select(Account).join(Login).where(Login.email == email, Account.kind == STAFF)
        if reseller_id is not None:
            stmt = stmt.where(Account.reseller_id == reseller_id)
        account = db.session.scalar(stmt)
        if account is not None:
            db.session.expunge(account)
        return account


def role_named(app, reseller_id: int, name: str) -> Role:
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.reseller_id == reseller_id, Role.name == name))
        db.session.expunge(role)
        return role


def make_role(app, reseller_id: int, name: str, permissions) -> int:
    with app.app_context():
        role = Role(reseller_id=reseller_id, name=name, permissions=sorted(permissions))
        db.session.add(role)
        db.session.commit()
        return role.id


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for event in events:
            db.session.expunge(event)
        return list(events)


def invite(owner, email: str, role_id: int, name: str = "Nova Pessoa", headers=None):
    return owner.post(
        "/reseller/staff/invite",
        {"name": name, "email": email, "role_id": str(role_id)},
        headers=headers or EN,
    )


def mailed_link(mailbox, run_jobs, email: str) -> tuple[str, str, str]:
    """(base, path, token) of the newest invitation e-mailed to ``email``."""
    run_jobs()
    match = LINK.search(mailbox.to(email)[-1]["text"])
    assert match, mailbox.to(email)[-1]["text"]
    return match.group(1), match.group(2), match.group(3)


# --- list and permission ------------------------------------------------------------


def test_the_staff_page_lists_name_email_role_two_step_last_seen_and_status(app, tenants, owner, factory):
    factory.staff(tenants.a.id, [perm.CLIENTS], email="maria@a.test")
    page = owner.get("/reseller/staff", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("owner@a.test", "maria@a.test", "Owner", "Two-step", "Last seen", "Active", "Off"):
        assert text in html
    assert 'href="/reseller/staff"' in html and 'href="/reseller/roles"' in html  # the panel's nav


def test_a_role_without_staff_and_settings_gets_403_and_no_links(app, tenants, factory, make_browser):
    factory.staff(tenants.a.id, [perm.CLIENTS, perm.PLANS], email="vendas@a.test")
    browser = make_browser()
    browser.login("vendas@a.test")
    assert 'href="/reseller/staff"' not in browser.get("/reseller/clients").get_data(as_text=True)
    target = account_of(app, "owner@a.test")
    for path in ("/reseller/staff", "/reseller/staff/invite", f"/reseller/staff/{target.id}/edit"):
        assert browser.get(path).status_code == 403
    for path in (
        "/reseller/staff/invite",
        f"/reseller/staff/{target.id}/edit",
        f"/reseller/staff/{target.id}/deactivate",
        f"/reseller/staff/{target.id}/resend",
    ):
        assert browser.post(path, {"name": "x", "email": "x@a.test", "role_id": "1"}).status_code == 403
    assert account_of(app, "owner@a.test").active


def test_another_resellers_staff_member_is_a_404(app, tenants, owner):
    b_owner = account_of(app, "owner@b.test")
    assert owner.get(f"/reseller/staff/{b_owner.id}/edit").status_code == 404
    for action in ("edit", "deactivate", "reactivate", "resend"):
        assert owner.post(f"/reseller/staff/{b_owner.id}/{action}", {"name": "x"}).status_code == 404
    # A client user of A's own reseller is not staff either.
    assert owner.get(f"/reseller/staff/{tenants.a.client.responsible_account_id}/edit").status_code == 404
    assert account_of(app, "owner@b.test").active


# --- inviting and accepting -----------------------------------------------------------


def test_an_invitation_is_mailed_on_the_canonical_host_and_accepting_sets_the_password(
    app, tenants, owner, mailbox, run_jobs, make_browser
):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    # A forged Host header does not move the link (it is built on the canonical URL).
    response = invite(owner, "nova@example.test", role_id, headers={**EN, "X-Forwarded-Host": "evil.test"})
    assert response.status_code == 302
    base, path, token = mailed_link(mailbox, run_jobs, "nova@example.test")
    message = mailbox.to("nova@example.test")[-1]
    assert base == "http://a.test"
    assert "Reseller A" in message["subject"] and "Reseller A" in message["text"]
    account = account_of(app, "nova@example.test")
    assert account.awaiting_acceptance and account.role_id == role_id
    with app.app_context():
        row = db.session.scalar(select(StaffInvitation).where(StaffInvitation.account_id == account.id))
        # Only the token's hash is stored.
        assert row.token_hash == hash_token(token) and token not in repr(row.__dict__)
        assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)
    # The account cannot log in before accepting.
    stranger = make_browser()
    assert (
        stranger.post("/login", {"email": "nova@example.test", "password": NEW_PASSWORD}).status_code != 302
    )
    # Accepting: the password policy applies, and a refusal does not use the link up.
    invitee = make_browser()
    page = invitee.get(path, headers=EN)
    assert page.status_code == 200 and "Suporte" in page.get_data(as_text=True)
    weak = invitee.post(path, {"password": "short", "confirm": "short"}, headers=EN)
    assert weak.status_code == 200 and "at least 12" in weak.get_data(as_text=True)
    accepted = invitee.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, headers=EN)
    assert accepted.status_code == 302 and accepted.headers["Location"] == "/login"
    assert not account_of(app, "nova@example.test").awaiting_acceptance
    assert audit_events(app, "staff.invitation_accepted")
    # Single use.
    again = make_browser().post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, headers=EN)
    assert again.status_code == 404
    invitee.login("nova@example.test", NEW_PASSWORD)
    assert invitee.get("/reseller/clients").status_code == 200
    staff_row = next(r for r in _rows(app, tenants.a.id) if r.account.id == account.id)
    assert staff_row.status == "active"


def _rows(app, reseller_id):
    with app.app_context():
        return staff.staff_list(reseller_id)


def test_the_staff_conditions_pick_the_resellers_staff_and_no_client_user(app, tenants, factory):
    # Account.staff_of adds "no client" to "kind staff" (for the index): the same rows.
    user = factory.user(tenants.a.client.id, email="cliente@example.test")
    with app.app_context():
        expected = db.session.scalars(
            select(Account.id).where(Account.reseller_id == tenants.a.id, Account.kind == STAFF)
        ).all()
        picked = db.session.scalars(select(Account.id).where(*Account.staff_of(tenants.a.id))).all()
        owners = staff.active_owners(tenants.a.id)
    assert expected and sorted(picked) == sorted(expected) and user.id not in picked
    assert {row.account.id for row in _rows(app, tenants.a.id)} == set(expected)
    assert owners and set(owners) <= set(expected)


def test_an_expired_or_replaced_or_foreign_link_is_refused(
    app, tenants, owner, mailbox, run_jobs, make_browser
):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    invite(owner, "tarde@example.test", role_id)
    _base, path, token = mailed_link(mailbox, run_jobs, "tarde@example.test")
    # On another reseller's host the token is unknown.
    assert make_browser("b.test").get(path).status_code == 404
    with app.app_context():
        db.session.execute(
            update(StaffInvitation)
            .where(StaffInvitation.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1), created_at=utcnow() - timedelta(days=7))
        )
        db.session.commit()
    visitor = make_browser()
    expired = visitor.get(path, headers=EN)
    assert expired.status_code == 404 and "has expired" in expired.get_data(as_text=True)
    assert visitor.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 404
    rows = {r.account.email: r for r in _rows(app, tenants.a.id)}
    assert rows["tarde@example.test"].status == "invitation_expired"
    # A resend makes a new link; the expired one stays dead, the new one works.
    account = account_of(app, "tarde@example.test")
    assert owner.post(f"/reseller/staff/{account.id}/resend").status_code == 302
    _base, new_path, _token = mailed_link(mailbox, run_jobs, "tarde@example.test")
    assert new_path != path
    assert visitor.get(path).status_code == 404
    assert visitor.get(new_path).status_code == 200


def test_resending_replaces_the_link_and_is_throttled_and_capped(app, tenants, owner, mailbox, run_jobs):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    invite(owner, "lenta@example.test", role_id)
    _base, first, _token = mailed_link(mailbox, run_jobs, "lenta@example.test")
    account = account_of(app, "lenta@example.test")
    too_soon = owner.post(f"/reseller/staff/{account.id}/resend", headers=EN, follow_redirects=True)
    assert "Wait" in too_soon.get_data(as_text=True)
    run_jobs()
    assert len(mailbox.to("lenta@example.test")) == 1

    def age_all():
        with app.app_context():
            for row in db.session.scalars(
                select(StaffInvitation).where(StaffInvitation.account_id == account.id)
            ):
                row.created_at -= timedelta(minutes=2)
            db.session.commit()

    for _ in range(4):
        age_all()
        assert owner.post(f"/reseller/staff/{account.id}/resend").status_code == 302
    run_jobs()
    assert len(mailbox.to("lenta@example.test")) == 5
    age_all()
    capped = owner.post(f"/reseller/staff/{account.id}/resend", headers=EN, follow_redirects=True)
    assert "5 times today" in capped.get_data(as_text=True)
    run_jobs()
    assert len(mailbox.to("lenta@example.test")) == 5
    with app.app_context():
        live = db.session.scalar(
            select(func.count())
            .select_from(StaffInvitation)
            .where(StaffInvitation.account_id == account.id, StaffInvitation.revoked_at.is_(None))
        )
        assert live == 1  # only the newest link works
    assert owner.get(first).status_code == 404
    assert len(audit_events(app, "staff.invitation_resent")) == 4


def test_inviting_an_email_already_on_the_team_or_invited_is_refused_with_a_clear_message(
    app, tenants, owner, factory, mailbox, run_jobs
):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    factory.staff(tenants.a.id, [perm.CLIENTS], email="ja@a.test")
    refused = invite(owner, "JA@a.test", role_id)
    assert refused.status_code == 422 and "already on the team" in refused.get_data(as_text=True)
    invite(owner, "pendente@example.test", role_id)
    twice = invite(owner, "pendente@example.test", role_id)
    assert twice.status_code == 422 and "already waiting" in twice.get_data(as_text=True)
    run_jobs()
    assert len(mailbox.to("pendente@example.test")) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Login).where(Login.email == "pendente@example.test")
            )
            == 1
        )
    bad = invite(owner, "not-an-email", role_id)
    assert bad.status_code == 422 and "valid e-mail" in bad.get_data(as_text=True)


def test_a_client_users_email_keeps_its_login_and_password_and_gains_a_staff_account(
    app, tenants, owner, factory, mailbox, run_jobs, make_browser
):
    user = factory.user(tenants.a.client.id, email="cliente@example.test")
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    assert invite(owner, "cliente@example.test", role_id).status_code == 302
    _base, path, _token = mailed_link(mailbox, run_jobs, "cliente@example.test")
    assert "current password" in mailbox.to("cliente@example.test")[-1]["text"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Login).where(Login.email == "cliente@example.test")
            )
            == 1
        )
        login = db.session.get(Login, user.login_id)
        hash_before = login.password_hash
    browser = make_browser()
    page = browser.get(path, headers=EN)
    assert "Accept the invitation" in page.get_data(as_text=True) and 'name="password"' not in page.get_data(
        as_text=True
    )
    assert browser.post(path, {}).status_code == 302
    staff_account = account_of(app, "cliente@example.test")
    assert staff_account.login_id == user.login_id and not staff_account.awaiting_acceptance
    with app.app_context():
        assert db.session.get(Login, user.login_id).password_hash == hash_before
    # The same password now offers both accounts.
    chooser = make_browser()
    response = chooser.post("/login", {"email": "cliente@example.test", "password": PASSWORD})
    assert response.headers["Location"] == "/login/account"


# --- editing ----------------------------------------------------------------------


def test_editing_name_and_role_is_audited_with_before_and_after_and_applies_at_the_next_request(
    app, tenants, owner, factory, make_browser
):
    member = factory.staff(tenants.a.id, [perm.CLIENTS], email="equipe@a.test")
    browser = make_browser()
    browser.login("equipe@a.test")
    assert browser.get("/reseller/plans").status_code == 403
    finance = make_role(app, tenants.a.id, "Financeiro", [perm.CLIENTS, perm.PLANS])
    saved = owner.post(f"/reseller/staff/{member.id}/edit", {"name": "Equipe Nova", "role_id": str(finance)})
    assert saved.status_code == 302
    assert browser.get("/reseller/plans").status_code == 200
    event = audit_events(app, "staff.updated")[-1]
    assert event.details["before"]["name"].startswith("Staff ")
    assert event.details["before"]["role_id"] == member.role_id
    assert event.details["after"] == {
        "name": "Equipe Nova",
        "role_id": finance,
        "role": "Financeiro",
        "is_active": True,
    }


def test_nobody_changes_their_own_role(app, tenants, factory, make_browser):
    admin_role = make_role(app, tenants.a.id, "Admin", [perm.CLIENTS, perm.STAFF_SETTINGS])
    other = make_role(app, tenants.a.id, "Outro", [perm.CLIENTS])
    factory.staff(tenants.a.id, [perm.CLIENTS, perm.STAFF_SETTINGS], email="admin@a.test")
    me = account_of(app, "admin@a.test")
    browser = make_browser()
    browser.login("admin@a.test")
    refused = browser.post(f"/reseller/staff/{me.id}/edit", {"name": "Eu", "role_id": str(other)}, headers=EN)
    assert refused.status_code == 422 and "your own role" in refused.get_data(as_text=True)
    assert account_of(app, "admin@a.test").role_id == me.role_id
    # The owner cannot change their own role either (nor be left without an owner).
    owner_account = account_of(app, "owner@a.test")
    owner = make_browser()
    owner.login("owner@a.test")
    owner.post(f"/reseller/staff/{owner_account.id}/edit", {"name": "Dona", "role_id": str(admin_role)})
    assert account_of(app, "owner@a.test").role_id == owner_account.role_id
    # The name alone may change.
    assert (
        browser.post(
            f"/reseller/staff/{me.id}/edit", {"name": "Eu Mesma", "role_id": str(me.role_id)}
        ).status_code
        == 302
    )
    assert account_of(app, "admin@a.test").name == "Eu Mesma"


def test_staff_give_only_roles_within_their_own_rights_and_only_owners_make_owners(
    app, tenants, factory, make_browser
):
    factory.staff(tenants.a.id, [perm.CLIENTS, perm.STAFF_SETTINGS], email="admin@a.test")
    target = factory.staff(tenants.a.id, [perm.CLIENTS], email="alvo@a.test")
    wider = make_role(app, tenants.a.id, "Amplo", [perm.CLIENTS, perm.DELETE_CLIENTS])
    owner_role = role_named(app, tenants.a.id, "Owner")
    browser = make_browser()
    browser.login("admin@a.test")
    for role_id in (wider, owner_role.id):
        response = browser.post(
            f"/reseller/staff/{target.id}/edit", {"name": "Alvo", "role_id": str(role_id)}
        )
        assert response.status_code == 422
        assert account_of(app, "alvo@a.test").role_id == target.role_id
    owner_account = account_of(app, "owner@a.test")
    assert browser.post(f"/reseller/staff/{owner_account.id}/deactivate").status_code == 302
    assert account_of(app, "owner@a.test").active
    assert invite(browser, "dono@example.test", owner_role.id).status_code == 422
    assert account_of(app, "dono@example.test") is None


def test_nobody_manages_a_colleague_holding_more_than_they_do(app, tenants, factory, make_browser):
    factory.staff(tenants.a.id, [perm.CLIENTS, perm.STAFF_SETTINGS], email="admin@a.test")
    finance = factory.staff(tenants.a.id, [perm.CLIENTS, perm.CLIENT_INVOICES], email="financas@a.test")
    peer = factory.staff(tenants.a.id, [perm.CLIENTS], email="par@a.test")
    browser = make_browser()
    browser.login("admin@a.test")
    renamed = browser.post(
        f"/reseller/staff/{finance.id}/edit", {"name": "Outro", "role_id": str(finance.role_id)}
    )
    assert renamed.status_code == 422 and account_of(app, "financas@a.test").name != "Outro"
    assert browser.post(f"/reseller/staff/{finance.id}/deactivate").status_code == 302
    assert account_of(app, "financas@a.test").active
    # A colleague within the admin's own rights is theirs to manage.
    assert browser.post(f"/reseller/staff/{peer.id}/deactivate").status_code == 302
    assert not account_of(app, "par@a.test").active


def test_the_last_active_owner_is_neither_demoted_nor_deactivated(app, tenants, factory):
    """Two owners acting on each other at once: the second change finds one owner left."""
    owner_role = role_named(app, tenants.a.id, "Owner")
    second = factory.staff(tenants.a.id, [], email="socia@a.test")
    plain = make_role(app, tenants.a.id, "Comum", [perm.CLIENTS])
    with app.app_context(), force_locale("en"):
        first = db.session.scalar(select(Account).join(Login).where(Login.email == "owner@a.test"))
        partner = db.session.get(Account, second.id)
        partner.role_id = owner_role.id
        db.session.flush()
        staff.deactivate(partner, first)
        db.session.flush()
        assert staff.active_owners(tenants.a.id) == [first.id]
        with pytest.raises(staff.StaffRejected, match="last active owner"):
            staff.deactivate(first, partner)
        with pytest.raises(staff.StaffRejected, match="last active owner"):
            staff.update_staff(first, partner, name=first.name, role=db.session.get(Role, plain))
        assert first.active and first.role_id == owner_role.id
        db.session.rollback()


# --- deactivating ---------------------------------------------------------------------


def test_deactivating_ends_every_session_and_impersonation_at_once(
    app, tenants, owner, factory, make_browser
):
    user = factory.user(tenants.a.client.id, email="gente@alpha.test")
    member = factory.staff(tenants.a.id, [perm.CLIENTS, perm.LOG_IN_AS], email="suporte@a.test")
    desk = make_browser()
    desk.login("suporte@a.test")
    acting = make_browser()
    acting.login("suporte@a.test")
    started = acting.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as")
    assert started.headers["Location"] == "/app/"
    assert acting.get("/app/").status_code == 200
    response = owner.post(f"/reseller/staff/{member.id}/deactivate")
    assert response.status_code == 302
    with app.app_context():
        live = db.session.scalars(
            select(AuthSession).where(
                AuthSession.revoked_at.is_(None),
                (AuthSession.account_id == member.id) | (AuthSession.impersonator_account_id == member.id),
            )
        ).all()
        assert live == []
    # Their next request finds them logged out, in the panel and in the workspace.
    assert desk.get("/reseller/clients").headers["Location"].startswith("/login")
    assert acting.get("/app/").headers["Location"].startswith("/login")
    # Nor can they log in again.
    assert make_browser().post("/login", {"email": "suporte@a.test", "password": PASSWORD}).status_code != 302
    event = audit_events(app, "staff.deactivated")[-1]
    assert event.details["before"]["is_active"] is True and event.details["after"]["is_active"] is False
    assert event.details["sessions_ended"] >= 3


def test_a_deactivated_member_can_be_reactivated_and_nobody_deactivates_themselves(
    app, tenants, owner, factory, make_browser
):
    member = factory.staff(tenants.a.id, [perm.CLIENTS], email="volta@a.test")
    owner.post(f"/reseller/staff/{member.id}/deactivate")
    assert not account_of(app, "volta@a.test").active
    rows = {r.account.email: r for r in _rows(app, tenants.a.id)}
    assert rows["volta@a.test"].status == "deactivated"
    assert owner.post(f"/reseller/staff/{member.id}/reactivate").status_code == 302
    assert account_of(app, "volta@a.test").active
    assert audit_events(app, "staff.reactivated")
    make_browser().login("volta@a.test")
    me = account_of(app, "owner@a.test")
    itself = owner.post(f"/reseller/staff/{me.id}/deactivate", headers=EN, follow_redirects=True)
    assert "cannot deactivate yourself" in itself.get_data(as_text=True)
    assert account_of(app, "owner@a.test").active


def test_deactivating_an_invited_member_voids_the_link(app, tenants, owner, mailbox, run_jobs):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    invite(owner, "cancelar@example.test", role_id)
    _base, path, token = mailed_link(mailbox, run_jobs, "cancelar@example.test")
    account = account_of(app, "cancelar@example.test")
    owner.post(f"/reseller/staff/{account.id}/deactivate")
    assert owner.get(path).status_code == 404
    with app.app_context():
        assert staff_invitations.invitation_from_token(token, tenants.a.id) is None


def test_two_submissions_of_one_invitation_accept_it_once(app, tenants, owner, mailbox, run_jobs):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    invite(owner, "duas@example.test", role_id)
    _base, _path, token = mailed_link(mailbox, run_jobs, "duas@example.test")
    with app.app_context(), force_locale("en"):
        first = staff_invitations.invitation_from_token(token, tenants.a.id)
        second = db.session.get(StaffInvitation, first.id)
        staff_invitations.accept(first, NEW_PASSWORD)
        # The other submission loaded the same row before the first one wrote.
        with pytest.raises(staff.StaffRejected, match="already used"):
            staff_invitations.accept(second, NEW_PASSWORD)
        db.session.rollback()


def test_the_tenant_and_the_role_are_never_bound_from_the_form(app, tenants, owner, mailbox, run_jobs):
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    b_role = role_named(app, tenants.b.id, "Owner")
    response = owner.post(
        "/reseller/staff/invite",
        {
            "name": "Intrusa",
            "email": "intrusa@example.test",
            "role_id": str(role_id),
            "reseller_id": str(tenants.b.id),
            "is_owner": "y",
            "permissions": perm.DELETE_CLIENTS,
        },
    )
    assert response.status_code == 302
    account = account_of(app, "intrusa@example.test")
    assert account.reseller_id == tenants.a.id and account.role_id == role_id
    # Another reseller's role is not one to choose.
    refused = invite(owner, "outra@example.test", b_role.id)
    assert refused.status_code == 422 and "Choose a role from the list" in refused.get_data(as_text=True)
    assert account_of(app, "outra@example.test") is None


def test_after_accepting_the_normal_staff_login_asks_the_second_factor_the_reseller_requires(
    app, tenants, owner, mailbox, run_jobs, make_browser
):
    with app.app_context():
        db.session.get(Reseller, tenants.a.id).require_staff_2fa = True
        db.session.commit()
    role_id = make_role(app, tenants.a.id, "Suporte", [perm.CLIENTS])
    invite(owner, "segura@example.test", role_id)
    _base, path, _token = mailed_link(mailbox, run_jobs, "segura@example.test")
    browser = make_browser()
    browser.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    response = browser.login("segura@example.test", NEW_PASSWORD)
    assert response.headers["Location"] == "/login/2fa/setup"
    assert browser.get("/reseller/clients").status_code == 302  # no session before the second factor

"""The Domínios module (``/reseller/domains``) and a client's Domínios tab (seed 003):
list, search, pages, add (with the preview of the unlinked users, linked only when
confirmed), move, remove with confirmation, webmail overrides; the "criado por e-mail"
badge and "Marcar como revisado"; the unknown-senders setting; another reseller's
objects are 404, a missing permission 403, a POST without its CSRF token 400."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from auth import identity
from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from tenant import domains
from tenant.domain_models import ClientDomain, WebmailOverride
from tenant.models import Client

EN = {"Accept-Language": "en"}


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def domain_rows(app, **where) -> list[tuple[str, int]]:
    with app.app_context():
        stmt = select(ClientDomain.domain, ClientDomain.client_id).order_by(ClientDomain.domain)
        for key, value in where.items():
            stmt = stmt.where(getattr(ClientDomain, key) == value)
        return [tuple(row) for row in db.session.execute(stmt)]


def give(app, client_id: int, domain: str) -> int:
    with app.app_context():
        row = domains.add_domain(db.session.get(Client, client_id), domain, actor=None)
        db.session.commit()
        return row.id


def row_id_of(app, domain: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ClientDomain.id).where(ClientDomain.domain == domain))


def listed(html: str) -> list[str]:
    return re.findall(r'data-domain="([^"]+)"', html)


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_every_domain_with_a_link_to_its_client(app, owner, factory, tenants):
    other = factory.client(tenants.a.id, trade_name="Gama Comércio")
    give(app, tenants.a.client.id, "alpha.com.br")
    give(app, other.id, "gama.com.br")
    give(app, tenants.b.client.id, "beta.com.br")  # reseller B's: never listed here
    response = owner.get("/reseller/domains")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert listed(html) == ["alpha.com.br", "gama.com.br"]
    assert f'href="/reseller/clients/{other.id}" data-client-link>Gama Comércio<' in html
    assert 'data-nav="domains"' in html  # in the panel's navigation


def test_the_list_searches_domains_and_client_names(app, owner, factory, tenants):
    other = factory.client(tenants.a.id, trade_name="Óticas Gama")
    give(app, tenants.a.client.id, "alpha.com.br")
    give(app, other.id, "gama.com.br")
    assert listed(owner.get("/reseller/domains?q=ALPHA").get_data(as_text=True)) == ["alpha.com.br"]
    assert listed(owner.get("/reseller/domains?q=oticas").get_data(as_text=True)) == ["gama.com.br"]
    nothing = owner.get("/reseller/domains?q=zzz", headers=EN).get_data(as_text=True)
    assert listed(nothing) == [] and "No domain matches this search." in nothing


def test_the_list_pages_25_at_a_time(app, owner, tenants):
    for n in range(30):
        give(app, tenants.a.client.id, f"d{n:02d}.com.br")
    first = listed(owner.get("/reseller/domains").get_data(as_text=True))
    second = listed(owner.get("/reseller/domains?page=2").get_data(as_text=True))
    assert first == [f"d{n:02d}.com.br" for n in range(25)]
    assert second == [f"d{n:02d}.com.br" for n in range(25, 30)]
    assert listed(owner.get("/reseller/domains?page=x").get_data(as_text=True)) == first
    links = owner.get("/reseller/domains?page=2").get_data(as_text=True)
    assert (
        '<li class="page-item active"><a class="page-link" href="/reseller/domains?page=2">2</a></li>'
        in links
    )
    assert '<a class="page-link" href="/reseller/domains?page=1">1</a>' in links


# --- add, with the preview of the unlinked users -----------------------------------------


def test_adding_a_domain_from_the_list(app, owner, tenants):
    response = owner.post(
        "/reseller/domains",
        {"target_client": str(tenants.a.client.id), "domain": "https://www.Alpha.com.br/"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/reseller/domains"
    assert domain_rows(app) == [("alpha.com.br", tenants.a.client.id)]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("gmail.com", "public webmail"),
        ("bol.com.br", "public webmail"),
        ("com.br", "public suffix"),
        ("10.0.0.1", "not an IP address"),
        ("taken.com.br", "already belongs to the client Dona Anterior"),
    ],
)
def test_a_refused_domain_is_explained_and_nothing_is_added(app, owner, factory, tenants, domain, message):
    previous = factory.client(tenants.a.id, trade_name="Dona Anterior")
    give(app, previous.id, "taken.com.br")
    response = owner.post(
        "/reseller/domains", {"target_client": str(tenants.a.client.id), "domain": domain}, headers=EN
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert domain_rows(app, client_id=tenants.a.client.id) == []


def test_another_resellers_client_cannot_receive_a_domain(app, owner, tenants):
    response = owner.post(
        "/reseller/domains", {"target_client": str(tenants.b.client.id), "domain": "x.com.br"}
    )
    assert response.status_code == 422
    assert domain_rows(app) == []


def test_adding_a_domain_shows_its_unlinked_users_and_links_them_only_when_confirmed(
    app, owner, factory, tenants
):
    a = tenants.a
    with app.app_context():
        free, _ = identity.ensure_login(a.id, "livre@alpha.com.br")
        other, _ = identity.ensure_login(a.id, "outra@alpha.com.br")
        db.session.commit()
        free_id, other_id = free.id, other.id
    added = owner.post(f"/reseller/clients/{a.client.id}/domains", {"domain": "alpha.com.br"})
    row_id = row_id_of(app, "alpha.com.br")
    assert added.status_code == 302
    assert added.headers["Location"] == f"/reseller/domains/{row_id}/link?back=client"
    preview = owner.get(added.headers["Location"], headers=EN).get_data(as_text=True)
    assert "2 user(s) with this domain have no client: link them to Alpha A?" in preview
    assert re.findall(r'name="login_ids" value="(\d+)"', preview) == [str(free_id), str(other_id)]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Account).where(Account.login_id.in_([free_id, other_id]))
            )
            == 0
        )
    linked = owner.post(f"/reseller/domains/{row_id}/link", {"login_ids": [str(free_id)], "back": "client"})
    assert (
        linked.status_code == 302 and linked.headers["Location"] == f"/reseller/clients/{a.client.id}/domains"
    )
    with app.app_context():
        users = db.session.scalars(select(Account).where(Account.login_id.in_([free_id, other_id]))).all()
        assert [(u.login_id, u.client_id, u.chat_level, u.view_phones) for u in users] == [
            (free_id, a.client.id, 6, True)
        ]


def test_a_domain_without_unlinked_users_goes_straight_back(app, owner, tenants):
    added = owner.post(f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "alpha.com.br"})
    assert added.headers["Location"] == f"/reseller/clients/{tenants.a.client.id}/domains"


def test_linking_needs_the_client_users_permission(app, factory, tenants, make_browser):
    a = tenants.a
    row_id = give(app, a.client.id, "alpha.com.br")
    with app.app_context():
        login, _ = identity.ensure_login(a.id, "livre@alpha.com.br")
        db.session.commit()
        login_id = login.id
    staff = factory.staff(a.id, permissions=[perm.CLIENTS])
    browser = make_browser()
    browser.login(staff.email)
    preview = browser.get(f"/reseller/domains/{row_id}/link")
    assert preview.status_code == 200 and 'id="link-confirm"' not in preview.get_data(as_text=True)
    assert browser.post(f"/reseller/domains/{row_id}/link", {"login_ids": [str(login_id)]}).status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Account).where(Account.login_id == login_id))
            == 0
        )


# --- move and remove ------------------------------------------------------------------------


def test_moving_a_domain_to_another_client(app, owner, factory, tenants):
    other = factory.client(tenants.a.id, trade_name="Nova Dona")
    row_id = give(app, tenants.a.client.id, "alpha.com.br")
    moved = owner.post(f"/reseller/domains/{row_id}/move", {"target_client": str(other.id)})
    assert moved.status_code == 302
    assert domain_rows(app) == [("alpha.com.br", other.id)]
    # Never to another reseller's client.
    owner.post(f"/reseller/domains/{row_id}/move", {"target_client": str(tenants.b.client.id)})
    assert domain_rows(app) == [("alpha.com.br", other.id)]


def test_removing_a_domain_asks_first(app, owner, tenants):
    row_id = give(app, tenants.a.client.id, "alpha.com.br")
    confirm = owner.get(f"/reseller/domains/{row_id}/remove?back=client", headers=EN)
    assert confirm.status_code == 200
    assert "Remove alpha.com.br from Alpha A?" in confirm.get_data(as_text=True)
    assert domain_rows(app) == [("alpha.com.br", tenants.a.client.id)]
    removed = owner.post(f"/reseller/domains/{row_id}/remove", {"back": "client"})
    assert removed.headers["Location"] == f"/reseller/clients/{tenants.a.client.id}/domains"
    assert domain_rows(app) == []
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "client_domain.removed")
        ).actor_label


# --- the client's tab ------------------------------------------------------------------------


def test_the_client_tab_lists_adds_and_refuses_webmail(app, owner, tenants):
    give(app, tenants.a.client.id, "alpha.com.br")
    tab = owner.get(f"/reseller/clients/{tenants.a.client.id}/domains").get_data(as_text=True)
    assert listed(tab) == ["alpha.com.br"]
    assert 'nav-link active" aria-current="page" data-tab="domains"' in tab
    refused = owner.post(
        f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "uol.com.br"}, headers=EN
    )
    assert refused.status_code == 422 and "public webmail" in refused.get_data(as_text=True)
    owner.post(f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "Alpha.net"})
    assert [d for d, _ in domain_rows(app)] == ["alpha.com.br", "alpha.net"]


# --- webmail overrides ------------------------------------------------------------------------


def test_webmail_overrides_are_added_and_removed_on_the_page(app, owner, tenants):
    owner.post("/reseller/domains/webmail", {"domain": "correio.regional.com.br", "is_webmail": "yes"})
    owner.post("/reseller/domains/webmail", {"domain": "123.com", "is_webmail": "no"})
    html = owner.get("/reseller/domains").get_data(as_text=True)
    assert re.findall(r'data-override="([^"]+)"', html) == ["123.com", "correio.regional.com.br"]
    refused = owner.post(
        f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "correio.regional.com.br"}, headers=EN
    )
    assert refused.status_code == 422
    with app.app_context():
        assert domains.is_webmail(tenants.a.id, "correio.regional.com.br")
        override_id = db.session.scalar(select(WebmailOverride.id).where(WebmailOverride.domain == "123.com"))
    assert owner.post(f"/reseller/domains/webmail/{override_id}/remove").status_code == 302
    with app.app_context():
        assert domains.is_webmail(tenants.a.id, "123.com")


# --- tenancy, permission, CSRF -------------------------------------------------------------------


def test_another_resellers_domain_client_and_override_are_404(app, owner, tenants):
    b = tenants.b
    row_id = give(app, b.client.id, "beta.com.br")
    with app.app_context():
        override = WebmailOverride(reseller_id=b.id, domain="beta-mail.com.br", is_webmail=True)
        db.session.add(override)
        db.session.commit()
        override_id = override.id
    for path in (f"/reseller/domains/{row_id}/link", f"/reseller/domains/{row_id}/remove"):
        assert owner.get(path).status_code == 404
    for path, data in (
        (f"/reseller/domains/{row_id}/move", {"target_client": str(tenants.a.client.id)}),
        (f"/reseller/domains/{row_id}/remove", {}),
        (f"/reseller/domains/{row_id}/link", {"login_ids": ["1"]}),
        (f"/reseller/domains/webmail/{override_id}/remove", {}),
        (f"/reseller/clients/{b.client.id}/domains", {"domain": "x.com.br"}),
        (f"/reseller/clients/{b.client.id}/reviewed", {}),
    ):
        assert owner.post(path, data).status_code == 404, path
    assert owner.get(f"/reseller/clients/{b.client.id}/domains").status_code == 404
    assert domain_rows(app) == [("beta.com.br", b.client.id)]


def test_a_deleted_clients_domain_is_404(app, owner, factory, tenants):
    gone = factory.client(tenants.a.id, trade_name="Excluída")
    row_id = give(app, gone.id, "antiga.com.br")
    with app.app_context():
        db.session.get(Client, gone.id).deleted_at = utcnow()
        db.session.commit()
    assert owner.get(f"/reseller/domains/{row_id}/remove").status_code == 404
    assert "antiga.com.br" not in owner.get("/reseller/domains").get_data(as_text=True)


def test_staff_without_the_clients_permission_get_403(app, factory, tenants, make_browser):
    row_id = give(app, tenants.a.client.id, "alpha.com.br")
    staff = factory.staff(tenants.a.id, permissions=[perm.PLANS])
    browser = make_browser()
    browser.login(staff.email)
    assert browser.get("/reseller/domains").status_code == 403
    assert browser.get(f"/reseller/clients/{tenants.a.client.id}/domains").status_code == 403
    assert browser.post("/reseller/domains", {"target_client": "1", "domain": "x.com.br"}).status_code == 403
    assert browser.post(f"/reseller/domains/{row_id}/remove").status_code == 403
    assert 'data-nav="domains"' not in browser.get("/reseller/plans").get_data(as_text=True)
    assert domain_rows(app) == [("alpha.com.br", tenants.a.client.id)]


def test_a_post_without_its_csrf_token_changes_nothing(app, owner, tenants):
    row_id = give(app, tenants.a.client.id, "alpha.com.br")
    for path, data in (
        ("/reseller/domains", {"target_client": str(tenants.a.client.id), "domain": "novo.com.br"}),
        (f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "novo.com.br"}),
        (f"/reseller/domains/{row_id}/remove", {}),
        ("/reseller/domains/webmail", {"domain": "novo.com.br", "is_webmail": "yes"}),
    ):
        assert owner.post(path, data, csrf=False).status_code == 400, path
    assert domain_rows(app) == [("alpha.com.br", tenants.a.client.id)]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebmailOverride)) == 0


# --- "criado por e-mail" and the setting ----------------------------------------------------------


def test_a_client_created_by_email_shows_its_badge_until_marked_reviewed(app, owner, tenants):
    client_id = tenants.a.client.id
    with app.app_context():
        client = db.session.get(Client, client_id)
        client.created_by_email = client.email_review_pending = True
        db.session.commit()
    page = owner.get(f"/reseller/clients/{client_id}").get_data(as_text=True)
    assert 'data-state="created-by-email"' in page and "criado por e-mail" in page
    assert 'data-action="reviewed"' in page and "Marcar como revisado" in page
    assert "data-created-by-email" in owner.get("/reseller/clients").get_data(as_text=True)
    assert owner.post(f"/reseller/clients/{client_id}/reviewed").status_code == 302
    with app.app_context():
        client = db.session.get(Client, client_id)
        assert client.created_by_email and not client.email_review_pending
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client.email_review_done"))
    page = owner.get(f"/reseller/clients/{client_id}").get_data(as_text=True)
    assert 'data-state="created-by-email"' not in page and 'data-action="reviewed"' not in page
    assert "data-created-by-email" not in owner.get("/reseller/clients").get_data(as_text=True)


BRAND = {
    "name": "Marca Nova",
    "primary_color": "#ffcc00",
    "support_email": "",
    "support_phone": "",
    "support_whatsapp": "",
    "mail_sender_name": "",
}


def test_the_unknown_senders_setting_is_on_by_default_and_saved_with_the_brand(app, owner, tenants):
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).mail_creates_clients is True
    page = owner.get("/reseller/settings").get_data(as_text=True)
    assert re.search(r'id="mail_creates_clients"[^>]*checked', page) or re.search(
        r'checked[^>]*id="mail_creates_clients"', page
    )
    # Unchecked on the page: off, audited with before and after.
    assert owner.post("/reseller/settings", {**BRAND, "mail_section": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).mail_creates_clients is False
        event = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "reseller.brand_changed")
            .order_by(AuditEvent.id.desc())
        )
        assert event.details["mail_creates_clients"] == {"before": True, "after": False}
    # A post that did not show the checkbox leaves it alone; checking it turns it on.
    owner.post("/reseller/settings", BRAND)
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).mail_creates_clients is False
    owner.post("/reseller/settings", {**BRAND, "mail_section": "1", "mail_creates_clients": "y"})
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).mail_creates_clients is True

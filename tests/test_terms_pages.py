"""Terms of use, the pages (issue 15): the gate in front of the workspace, accepting and
going back where one was going, htmx, what stays reachable, staff never gated, staff
logged in as a user refused, and the staff pages (publish, preview, who accepted)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from core.extensions import db
from core.models import AuditEvent
from portal.models import MAX_BODY_CHARS, TermsAcceptance, TermsVersion
from tenant.inbox_models import Team

BODY = "# Termos da Revenda A\n\n- Seja gentil.\n- Pague em dia."


def acceptances(app) -> list[TermsAcceptance]:
    with app.app_context():
        return db.session.scalars(select(TermsAcceptance).order_by(TermsAcceptance.id)).all()


def version_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(TermsVersion.id)))


@pytest.fixture
def user(factory, tenants):
    return factory.user(tenants.a.client.id, email="gente@alpha.test", name="Gente Alpha")


@pytest.fixture
def signed_in(make_browser, user):
    browser = make_browser()
    browser.login("gente@alpha.test")
    return browser


def terms_page_of(response) -> tuple[str, str | None]:
    location = urlsplit(response.headers["Location"])
    return location.path, parse_qs(location.query).get("next", [None])[0]


def test_without_terms_the_workspace_is_open_and_the_terms_page_sends_home(tenants, signed_in):
    assert signed_in.get("/app/").status_code == 200
    response = signed_in.get("/app/terms")
    assert response.status_code == 302 and response.headers["Location"] == "/app/"


def test_a_client_user_is_sent_to_the_terms_before_the_workspace(factory, tenants, signed_in):
    factory.terms(tenants.a.id, BODY)
    for path in ("/app/", "/app/contacts", "/app/subscription"):
        response = signed_in.get(path)
        assert response.status_code == 302, path
        assert terms_page_of(response) == ("/app/terms", path)
    page = signed_in.get("/app/terms?next=/app/contacts")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Termos da Revenda A</h1>" in html and "<li>Seja gentil.</li>" in html
    assert 'id="accept"' in html
    # The workspace's links are hidden until the terms are accepted.
    assert 'href="/app/contacts"' not in html
    # ...and its live stream, which the gate would answer with this page, is not opened.
    assert 'id="live-root"' not in html and signed_in.get("/app/stream").status_code == 302


def test_accepting_records_it_and_returns_to_the_page_asked_for(app, factory, tenants, user, signed_in):
    version_id = factory.terms(tenants.a.id, BODY)
    asked = signed_in.get("/app/contacts?q=ana")
    path, target = terms_page_of(asked)
    response = signed_in.post(
        path,
        {"version_id": version_id, "next": target},
        headers={"User-Agent": "Navegador de Teste/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/app/contacts?q=ana"
    [row] = acceptances(app)
    assert (row.account_id, row.version_id, row.client_id) == (user.id, version_id, tenants.a.client.id)
    assert (row.ip, row.user_agent) == ("203.0.113.7", "Navegador de Teste/1.0")
    assert signed_in.get("/app/contacts").status_code == 200
    assert 'id="live-root"' in signed_in.get("/app/terms").get_data(as_text=True)  # the stream again
    # Accepting twice (a double click) records nothing more.
    signed_in.post("/app/terms", {"version_id": version_id})
    assert len(acceptances(app)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "terms.accepted")) == 1


@pytest.mark.parametrize(
    "target", ["//evil.test/x", "https://evil.test/", "/\t/evil.test", "javascript:alert(1)"]
)
def test_accepting_never_leaves_the_site(factory, tenants, signed_in, target):
    version_id = factory.terms(tenants.a.id, BODY)
    response = signed_in.post("/app/terms", {"version_id": version_id, "next": target})
    assert response.headers["Location"] == "/app/"


def test_an_htmx_request_gets_hx_redirect(factory, tenants, signed_in):
    factory.terms(tenants.a.id, BODY)
    response = signed_in.get("/app/contacts", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/app/terms?next=")
    assert "Location" not in response.headers


def test_a_form_sent_while_pending_records_nothing_and_goes_to_the_terms(app, factory, tenants, signed_in):
    factory.terms(tenants.a.id, BODY)
    response = signed_in.post("/app/teams", {"name": "Equipe nova"})
    assert response.status_code == 302
    assert terms_page_of(response) == ("/app/terms", None)
    with app.app_context():
        assert db.session.scalar(select(func.count(Team.id))) == 0


def test_a_new_version_is_asked_again(app, factory, tenants, user, signed_in):
    factory.terms(tenants.a.id, BODY, accepted_by=[user.id])
    assert signed_in.get("/app/").status_code == 200
    factory.terms(tenants.a.id, BODY + "\n- Nova regra.")
    assert terms_page_of(signed_in.get("/app/")) == ("/app/terms", "/app/")


def test_a_stale_version_is_not_accepted(app, factory, tenants, signed_in):
    first = factory.terms(tenants.a.id, BODY)
    factory.terms(tenants.a.id, BODY + "\n- Nova regra.")
    response = signed_in.post("/app/terms", {"version_id": first, "next": "/app/contacts"})
    assert terms_page_of(response) == ("/app/terms", "/app/contacts")
    assert acceptances(app) == []


def test_logout_and_switching_stay_reachable_while_pending(factory, tenants, make_browser):
    a = tenants.a
    second_client = factory.client(a.id, plan_id=a.plan.id, payment_status="paid", trade_name="Gama")
    first = factory.user(a.client.id, email="multi@alpha.test")
    second = factory.user(second_client.id, email="multi@alpha.test")
    factory.terms(a.id, BODY)
    browser = make_browser()
    browser.login("multi@alpha.test")
    assert browser.post("/login/account", {"account_id": first.id}).headers["Location"] == "/app/"
    page = browser.get("/app/terms").get_data(as_text=True)
    assert f'data-switch-to="{second.id}"' in page and 'action="/logout"' in page
    switched = browser.post("/account/switch", {"account_id": second.id})
    assert switched.status_code == 302 and switched.headers["Location"] == "/app/"
    # The other account has not accepted either: the terms first, there too.
    assert terms_page_of(browser.get("/app/"))[0] == "/app/terms"
    assert browser.get("/healthz").status_code == 200
    assert browser.get("/static/app/app.css").status_code == 200
    assert browser.post("/logout").status_code == 302
    assert browser.get("/app/").headers["Location"].startswith("/login")


def test_staff_are_never_gated(factory, tenants, make_browser):
    factory.terms(tenants.a.id, BODY)
    staff = make_browser()
    staff.login("owner@a.test")
    assert staff.get("/reseller/clients").status_code == 200
    assert staff.get("/app/").headers["Location"] == "/reseller/clients"
    assert staff.get("/app/terms").headers["Location"] == "/reseller/clients"


def test_staff_logged_in_as_the_user_see_the_terms_but_cannot_accept(
    app, factory, tenants, user, make_browser
):
    version_id = factory.terms(tenants.a.id, BODY)
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="imp@a.test")
    staff = make_browser()
    staff.login("imp@a.test")
    started = staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as")
    assert started.headers["Location"] == "/app/"
    assert terms_page_of(staff.get("/app/"))[0] == "/app/terms"
    page = staff.get("/app/terms").get_data(as_text=True)
    assert 'id="terms-impersonation"' in page and 'id="end-impersonation"' in page
    assert 'id="accept"' not in page
    refused = staff.post("/app/terms", {"version_id": version_id})
    assert refused.status_code == 403
    assert acceptances(app) == []
    ended = staff.post("/impersonation/end")
    assert ended.status_code == 302


def test_the_staff_page_publishes_previews_and_lists_acceptances(app, factory, tenants, user, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    empty = staff.get("/reseller/terms").get_data(as_text=True)
    assert 'id="no-terms"' in empty and 'data-nav="terms"' in empty
    preview = staff.post("/reseller/terms", {"body": BODY, "action": "preview"})
    assert preview.status_code == 200 and 'id="terms-preview"' in preview.get_data(as_text=True)
    assert version_count(app) == 0
    published = staff.post("/reseller/terms", {"body": BODY, "action": "publish"})
    assert published.status_code == 302 and published.headers["Location"] == "/reseller/terms"
    with app.app_context():
        version = db.session.scalars(select(TermsVersion)).one()
        assert (version.reseller_id, version.number, version.body) == (tenants.a.id, 1, BODY)
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "terms.published")).one()
        assert (event.details["before"], event.details["after"]) == (None, 1)
    page = staff.get("/reseller/terms").get_data(as_text=True)
    assert "<h1>Termos da Revenda A</h1>" in page and 'data-version="1"' in page
    # The text in force fills the form for the next version.
    assert "- Seja gentil." in page

    client_user = make_browser()
    client_user.login("gente@alpha.test")
    client_user.post("/app/terms", {"version_id": version.id}, environ_base={"REMOTE_ADDR": "198.51.100.4"})
    listing = staff.get(f"/reseller/terms/{version.id}").get_data(as_text=True)
    for text in ("Alpha A", "Gente Alpha", "gente@alpha.test", "198.51.100.4"):
        assert text in listing


@pytest.mark.parametrize(
    "body", ["", "  \n ", "x" * (MAX_BODY_CHARS + 1)], ids=["empty", "blank", "too long"]
)
def test_bad_terms_get_a_clear_message_and_change_nothing(app, tenants, make_browser, body):
    staff = make_browser()
    staff.login("owner@a.test")
    for action in ("publish", "preview"):
        response = staff.post("/reseller/terms", {"body": body, "action": action})
        assert response.status_code == 422
        assert 'id="body-error"' in response.get_data(as_text=True)
    assert version_count(app) == 0


def test_the_staff_pages_need_staff_and_settings(factory, tenants, make_browser, signed_in):
    version_id = factory.terms(tenants.a.id, BODY)
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clients-only@a.test")
    staff = make_browser()
    staff.login("clients-only@a.test")
    assert staff.get("/reseller/terms").status_code == 403
    assert staff.post("/reseller/terms", {"body": "x"}).status_code == 403
    assert staff.get(f"/reseller/terms/{version_id}").status_code == 403
    assert 'data-nav="terms"' not in staff.get("/reseller/clients").get_data(as_text=True)
    assert signed_in.get("/reseller/terms").status_code == 403


def test_another_resellers_version_is_a_404(factory, tenants, make_browser):
    b_version = factory.terms(tenants.b.id, "Termos de B")
    staff = make_browser()
    staff.login("owner@a.test")
    assert staff.get(f"/reseller/terms/{b_version}").status_code == 404


def test_the_terms_come_before_the_subscription_page_of_a_client_without_a_plan(
    factory, tenants, make_browser
):
    no_plan = factory.client(tenants.a.id, trade_name="Sem Plano")
    factory.user(no_plan.id, email="sem@plano.test")
    version_id = factory.terms(tenants.a.id, BODY)
    browser = make_browser()
    browser.login("sem@plano.test")
    assert terms_page_of(browser.get("/app/"))[0] == "/app/terms"
    assert browser.get("/app/terms").status_code == 200
    browser.post("/app/terms", {"version_id": version_id})
    assert browser.get("/app/").headers["Location"] == "/app/subscription"

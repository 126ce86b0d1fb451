"""A form refused for its CSRF token, sent from one of this host's pages, sends the
browser back to that page with a message and the mark that asks static/app/drafts.js to
restore the form (core/resubmit.py); anything else keeps the "Send again" page or the
htmx message (tests/test_redirects_and_pages.py). The browser side: test_browser_drafts.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from billing.models import Plan
from core.extensions import db
from tenant import domains
from tenant.models import Client
from tests.conftest import PASSWORD

MESSAGE = "O formulário expirou antes do envio; o que você escreveu foi mantido."
MARK = "data-draft-restore"
TYPED = {"name": "Plano Rascunho", "price": "99,90", "period": "monthly", "sessions": "100"}


def _plans_named(app, name: str) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Plan).where(Plan.name == name)).all())


def test_a_refused_form_from_this_site_goes_back_to_its_page_marked_once(app, tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(
        "/reseller/plans/new",
        {**TYPED, "csrf_token": "stale"},
        headers={"Referer": "http://a.test/reseller/plans/new?from=list"},
    )
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/reseller/plans/new?from=list"
    assert _plans_named(app, TYPED["name"]) == 0

    back = staff.get("/reseller/plans/new?from=list")
    body = back.get_data(as_text=True)
    assert back.status_code == 200
    assert MESSAGE in body
    assert 'id="content" tabindex="-1"' in body and MARK in body
    assert "app/drafts.js" in body
    # Once: the next page is not marked, so drafts.js drops what it kept.
    assert MARK not in staff.get("/reseller/plans/new").get_data(as_text=True)


def test_an_unmarked_page_never_asks_to_restore(tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    body = staff.get("/reseller/plans/new").get_data(as_text=True)
    assert MARK not in body and MESSAGE not in body


@pytest.mark.parametrize(
    "headers",
    [
        {"Referer": "https://evil.test/reseller/plans/new"},
        {"Referer": "http://a.test.evil.test/reseller/plans/new"},
        {"Referer": "http://a.test//evil.test/x"},
        {"Referer": "javascript:alert(1)"},
        {"Origin": "http://a.test"},
        {},
    ],
    ids=["other-site", "look-alike-host", "protocol-relative-path", "javascript", "origin-only", "none"],
)
def test_a_refused_form_not_from_a_page_of_this_host_is_never_redirected(app, tenants, make_browser, headers):
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post("/reseller/plans/new", {**TYPED, "csrf_token": "stale"}, headers=headers)
    assert refused.status_code == 400 and "Location" not in refused.headers
    body = refused.get_data(as_text=True)
    assert "data-csrf-refused" in body and MARK not in body
    assert MARK not in staff.get("/reseller/plans/new").get_data(as_text=True)
    assert _plans_named(app, TYPED["name"]) == 0


def test_a_refused_htmx_request_gets_its_short_message_not_a_redirect(tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(
        "/reseller/plans/new",
        {**TYPED, "csrf_token": "stale"},
        headers={"HX-Request": "true", "Referer": "http://a.test/reseller/plans/new"},
    )
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert "data-csrf-refused" in refused.get_data(as_text=True)
    assert MARK not in staff.get("/reseller/plans/new").get_data(as_text=True)


def test_a_referring_page_a_get_cannot_open_keeps_the_send_again_page(tenants, make_browser):
    """A Referer naming an action (POST only) would answer 405: the old page instead."""
    staff = make_browser()
    staff.login("owner@a.test")
    client_id = tenants.a.client.id
    refused = staff.post(
        f"/reseller/clients/{client_id}/inactivate",
        {"csrf_token": "stale"},
        headers={"Referer": f"http://a.test/reseller/clients/{client_id}/inactivate"},
    )
    assert refused.status_code == 400 and "data-csrf-refused" in refused.get_data(as_text=True)


def test_after_a_session_expiry_the_draft_waits_through_the_login(tenants, make_browser):
    """The session is gone (its cookie too): back to the page, which asks for a login;
    the login page is one where drafts.js keeps the draft (body.auth-page), and the login
    returns to the page."""
    anonymous = make_browser()
    refused = anonymous.post(
        "/reseller/plans/new",
        {**TYPED, "csrf_token": "from-the-old-session"},
        headers={"Referer": "http://a.test/reseller/plans/new"},
    )
    assert refused.status_code == 303 and refused.headers["Location"] == "/reseller/plans/new"
    to_login = anonymous.get("/reseller/plans/new")
    assert to_login.status_code == 302 and "/login?next=/reseller/plans/new" in to_login.headers["Location"]
    login_page = anonymous.get("/login?next=/reseller/plans/new").get_data(as_text=True)
    assert "auth-page" in login_page and MESSAGE in login_page
    logged_in = anonymous.post(
        "/login?next=/reseller/plans/new",
        {"email": "owner@a.test", "password": PASSWORD, "next": "/reseller/plans/new"},
    )
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/reseller/plans/new"


def test_a_small_form_refused_by_a_redirect_keeps_what_was_typed(app, tenants, make_browser):
    """The domain list's "move to client" box: refused, the list comes back marked so the
    box gets its typed value back (core.resubmit.keep_typed)."""
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        row = domains.add_domain(client, "rascunho-dominio.test", actor=None)
        db.session.commit()
        domain_id = row.id
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(f"/reseller/domains/{domain_id}/move", {"target_client": "999999"})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/reseller/domains")
    page = staff.get("/reseller/domains").get_data(as_text=True)
    assert MARK in page
    assert MARK not in staff.get("/reseller/domains").get_data(as_text=True)


def test_a_refused_ticket_reply_comes_back_to_the_ticket_with_its_text(factory, tenants, make_browser):
    """A reply refused by the rules (core.outcomes.commit_or_refuse redirects to the
    ticket): the ticket page is marked, so the reply box gets its text back."""
    ticket = factory.ticket(tenants.a.client.id)
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(f"/reseller/tickets/{ticket.id}/reply", {"body": "   "})
    assert refused.status_code == 302
    page = staff.get(f"/reseller/tickets/{ticket.id}").get_data(as_text=True)
    assert MARK in page and "alert-danger" in page


def test_an_accepted_ticket_reply_marks_nothing(factory, tenants, make_browser):
    ticket = factory.ticket(tenants.a.client.id)
    staff = make_browser()
    staff.login("owner@a.test")
    assert staff.post(f"/reseller/tickets/{ticket.id}/reply", {"body": "Olá!"}).status_code == 302
    assert MARK not in staff.get(f"/reseller/tickets/{ticket.id}").get_data(as_text=True)

"""Redirects that take a target stay on the site (QUALITY "E-mailed links and
redirects"), a refused CSRF token keeps what was typed, the favicon, and no inline
script in any template (the CSP allows only ``script-src 'self'``)."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from billing.models import Plan, Subscription
from core.extensions import db
from core.redirects import safe_local_target
from core.timeutil import today_local
from tests.conftest import PASSWORD
from tests.test_browser import live_server, page  # noqa: F401 - shared browser fixtures

HOSTILE_TARGETS = [
    "//evil.test",
    "/\\evil.test",
    "/%09/evil.test",
    "/\t/evil.test",
    "\\\\evil.test",
    "https://evil.test",
    "http:evil.test",
    "/%0d%0aSet-Cookie:x=1",
    "/\r\nSet-Cookie:x=1",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " //evil.test",
    "\t//evil.test",
    "/%2F/evil.test",
    "///evil.test",
    "/\\/evil.test",
    "/\x00//evil.test",
    "\x00",
    "/app/\x00",
    "/\x0b/evil.test",
    "http://a.test@evil.test/",
    "/" + "a" * 8000,
    "/reseller/" + "a" * 8000,
    "/reseller/\r\nSet-Cookie:x=1",
    "/reseller/clients/%0d%0a",
    "/reseller/clients\t/\\evil.test",
    "/reseller/clients/\x00",
    "/app/é€ ☃",
    "",
]

_addresses = count(1)


def _as_sent(value: str) -> set[str]:
    """The value as the server receives it when sent as typed and when its %XX
    escapes were decoded once more (``?next=/%09/x`` in a raw URL)."""
    return {value, unquote(value)}


def _address() -> dict:
    # Every login from its own address: the per-IP login limit is not under test.
    n = next(_addresses)
    return {"environ_base": {"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}}


def _problem(what: str, value: str, response) -> str | None:
    """Why ``response`` is not a safe answer, or None."""
    if response.status_code >= 500:
        return f"{what} {value!r}: {response.status_code}"
    location = response.headers.get("Location")
    if location is None:
        return None
    if re.search(r"[\x00-\x20\x7f]", location):
        return f"{what} {value!r}: control character or space in Location {location!r}"
    # What a browser makes of it: backslashes are slashes in http(s) URLs.
    read = location.replace("\\", "/")
    parts = urlsplit(read)
    if parts.scheme or parts.netloc or not read.startswith("/") or read.startswith("//"):
        return f"{what} {value!r}: Location {location!r} leaves the site"
    return None


def _call(what: str, value: str, request) -> str | None:
    try:
        response = request()
    except Exception as exc:  # noqa: BLE001 - the testing app propagates what would be a 500
        return f"{what} {value!r}: {type(exc).__name__}: {exc}"
    return _problem(what, value, response)


HIDDEN_NEXT = re.compile(
    r'<input[^>]*name="next"[^>]*value="([^"]*)"|<input[^>]*value="([^"]*)"[^>]*name="next"'
)


def _rendered_next(body: str) -> str:
    match = HIDDEN_NEXT.search(body)
    return html.unescape(match.group(1) or match.group(2) or "") if match else ""


@pytest.mark.parametrize("who", ["client user", "staff"])
def test_login_with_a_hostile_next_stays_on_the_site(tenants, make_browser, who):
    """GET /login?next=..., then the login form posted as rendered (and with the raw
    value): every answer is a 2xx/3xx whose Location stays on the site."""
    email = tenants.a.client.email if who == "client user" else "owner@a.test"
    problems = []
    for value in HOSTILE_TARGETS:
        for sent in _as_sent(value):
            browser = make_browser()
            body = browser.get("/login", query_string={"next": sent})
            problem = _problem("GET /login?next=", sent, body)
            if problem:
                problems.append(problem)
                continue
            rendered = _rendered_next(body.get_data(as_text=True))
            for posted in {rendered, sent}:
                browser = make_browser()
                problem = _call(
                    "POST /login next=",
                    posted,
                    lambda posted=posted, browser=browser, sent=sent: browser.post(
                        "/login",
                        {"email": email, "password": PASSWORD, "next": posted},
                        query_string={"next": sent},
                        **_address(),
                    ),
                )
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems)


def test_language_switch_with_a_hostile_next_stays_on_the_site(tenants, make_browser):
    browser = make_browser()
    problems = []
    for value in HOSTILE_TARGETS:
        for sent in _as_sent(value):
            problem = _call(
                "POST /lang next=",
                sent,
                lambda sent=sent: browser.post("/lang", {"lang": "en", "next": sent}),
            )
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)


def test_client_list_actions_with_a_hostile_next_stay_on_the_site(tenants, make_browser):
    """Inactivate / reactivate go back to the list the staff member was on."""
    staff = make_browser()
    staff.login("owner@a.test")
    path = f"/reseller/clients/{tenants.a.client.id}/reactivate"
    problems = []
    for value in HOSTILE_TARGETS:
        for sent in _as_sent(value):
            problem = _call("POST reactivate next=", sent, lambda sent=sent: staff.post(path, {"next": sent}))
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)


def test_login_and_language_still_go_back_to_a_local_page(tenants, make_browser):
    user = make_browser()
    target = "/app/conversations?view=all&status=open"
    body = user.get("/login", query_string={"next": target})
    assert _rendered_next(body.get_data(as_text=True)) == target
    response = user.post("/login", {"email": tenants.a.client.email, "password": PASSWORD, "next": target})
    assert response.headers["Location"] == target
    assert user.post("/lang", {"lang": "en", "next": target}).headers["Location"] == target
    anonymous = make_browser()
    assert anonymous.get("/reseller/clients?q=padaria").headers["Location"] == (
        "/login?next=/reseller/clients?q%3Dpadaria"
    )


@pytest.mark.parametrize("value", sorted({v for h in HOSTILE_TARGETS for v in _as_sent(h)}))
def test_safe_local_target_never_answers_a_target_a_browser_reads_as_another_site(value):
    safe = safe_local_target(value)
    if safe is not None:
        assert _problem("safe_local_target", value, _Redirect(safe)) is None
        assert len(safe) <= 2048


def test_safe_local_target_keeps_ordinary_paths():
    assert safe_local_target("/app/") == "/app/"
    assert safe_local_target("/reseller/clients?q=a&page=2#top") == "/reseller/clients?q=a&page=2#top"
    assert safe_local_target("/app/\tconversations") == "/app/conversations"
    assert safe_local_target("/app/café") == "/app/caf%C3%A9"
    for refused in ("", None, "app/", "//x", "/\\x", "https://x/", "/\t/x", "javascript:x", "/a\x00"):
        assert safe_local_target(refused) is None


class _Redirect:
    status_code = 302

    def __init__(self, location: str):
        self.headers = {"Location": location}


# --- a refused CSRF token --------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method and inputs (name, type, value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "inputs": []})
        elif tag in ("input", "textarea", "select") and self.forms:
            self.forms[-1]["inputs"].append((attrs.get("name"), attrs.get("type"), attrs.get("value")))


def _retry_form(body: str) -> dict:
    parser = _Forms()
    parser.feed(body)
    forms = [f for f in parser.forms if any(name == "csrf_token" for name, _, _ in f["inputs"])]
    retry = [f for f in forms if f["action"] and "lang" not in f["action"] and "logout" not in f["action"]]
    assert len(retry) == 1, parser.forms
    return retry[0]


FROM_A = {"Origin": "http://a.test"}


def test_a_refused_csrf_token_shows_the_branded_page_with_the_input_kept(app, tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    typed = {"name": "Plano Único & <Ouro>", "price": "1.299,90", "period": "quarterly", "sessions": "3000"}
    refused = staff.post("/reseller/plans/new", {**typed, "csrf_token": "stale-token"}, headers=FROM_A)
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "Reseller A" in body and "--brand:" in body
    assert "Plano Único &amp; &lt;Ouro&gt;" in body and "1.299,90" in body
    assert "stale-token" not in body
    form = _retry_form(body)
    assert form["action"] == "/reseller/plans/new" and form["method"] == "post"
    data = {name: value for name, _type, value in form["inputs"] if name}
    assert data["csrf_token"] != "stale-token"
    again = staff.http.post(staff.url(form["action"]), data=data, headers=FROM_A)
    assert again.status_code == 302
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.name == typed["name"]))
        assert (plan.reseller_id, plan.price_cents, plan.period) == (tenants.a.id, 129990, "quarterly")


def test_a_refused_login_form_keeps_the_email_but_never_the_password(tenants, make_browser):
    """The most common case, a login page left open: sent again, the login form comes
    back with the e-mail filled in and asks for the password. (With only an ``Origin``:
    a same-origin ``Referer`` sends the browser back to the page, tests/test_drafts.py.)"""
    browser = make_browser()
    secret = "my secret password 123"
    refused = browser.post(
        "/login",
        {"email": tenants.a.client.email, "password": secret, "next": "/app/", "csrf_token": "old"},
        query_string={"next": "/app/"},
        headers=FROM_A,
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "Reseller A" in body and tenants.a.client.email in body
    assert secret not in body
    form = _retry_form(body)
    assert form["action"] == "/login?next=/app/"
    assert {name for name, _kind, _value in form["inputs"]} == {"csrf_token", "email", "next"}
    data = {name: value for name, _kind, value in form["inputs"]}
    again = browser.http.post(browser.url(form["action"]), data=data)
    assert again.status_code == 200
    assert f'value="{tenants.a.client.email}"' in again.get_data(as_text=True)
    data["password"] = PASSWORD
    logged_in = browser.http.post(browser.url(form["action"]), data=data)
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/app/"


def test_a_refused_password_change_echoes_none_of_the_passwords(tenants, make_browser):
    user = make_browser()
    user.login(tenants.a.client.email)
    typed = {"current": "current-secret-1", "password": "new-secret-22", "confirm": "new-secret-22"}
    refused = user.post("/account/password", {**typed, "csrf_token": "x"}, headers=FROM_A)
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert _retry_form(body)["action"] == "/account/password"
    for value in typed.values():
        assert value not in body


def test_a_refused_upload_never_echoes_the_file(tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(
        f"/reseller/clients/{tenants.a.client.id}/edit",
        {
            "trade_name": "Alpha Renomeada",
            "photo": (io.BytesIO(b"\x89PNG secret bytes"), "x.png"),
            "csrf_token": "x",
        },
        content_type="multipart/form-data",
        headers=FROM_A,
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "Alpha Renomeada" in body and "secret bytes" not in body and "x.png" not in body


@pytest.mark.parametrize(
    "sent_from", [{"Origin": "https://evil.test"}, {"Referer": "https://evil.test/a.test"}, {}]
)
def test_a_form_posted_from_another_site_gets_no_send_again_button(tenants, make_browser, sent_from):
    """Else the page would post an attacker's form for them with a fresh token."""
    staff = make_browser()
    staff.login("owner@a.test")
    refused = staff.post(
        f"/reseller/clients/{tenants.a.client.id}/inactivate",
        {"next": "/x", "csrf_token": ""},
        headers=sent_from,
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "Reseller A" in body and "data-csrf-refused" in body
    parser = _Forms()
    parser.feed(body)
    assert [f["action"] for f in parser.forms if "inactivate" in (f["action"] or "")] == []
    assert 'value="/x"' not in body


def test_a_refused_csrf_token_answers_htmx_with_a_short_message(tenants, make_browser):
    staff = make_browser()
    staff.login("owner@a.test")
    response = staff.post(
        "/reseller/plans/new", {"name": "Htmx", "csrf_token": "x"}, headers={"HX-Request": "true", **FROM_A}
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "data-csrf-refused" in text and "<html" not in text and "<form" not in text and len(text) < 600


# --- favicon -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["a.test", "nobody-registered.test"])
def test_the_favicon_is_served_to_anyone(tenants, make_browser, host):
    browser = make_browser(host)
    with browser.get("/favicon.ico", follow_redirects=True) as response:
        assert response.status_code == 200
        assert response.mimetype in ("image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/png")
        assert len(response.data) > 50


def test_every_layout_links_the_favicon(tenants, make_browser):
    staff = make_browser()
    for path in ("/login",):
        body = staff.get(path).get_data(as_text=True)
        link = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', body)
        assert link, path
        with staff.get(link.group(1)) as icon:
            assert icon.status_code == 200
    staff.login("owner@a.test")
    body = staff.get("/reseller/clients").get_data(as_text=True)
    assert '<link rel="icon"' in body
    assert '<link rel="icon"' in staff.get("/no-such-page").get_data(as_text=True)


# --- no inline script in any template -----------------------------------------------

INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.S)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript\s*:", re.I)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def test_no_template_has_inline_event_handlers_or_javascript_urls(app):
    """The CSP (script-src 'self') blocks them: behaviour goes in static/app/*.js."""
    found = []
    templates = [name for name in app.jinja_env.list_templates() if name.endswith(".html")]
    assert len(templates) > 30
    project = str(Path(__file__).resolve().parent.parent)
    for name in templates:
        source, filename, _ = app.jinja_env.loader.get_source(app.jinja_env, name)
        if not filename.startswith(project) or "/site-packages/" in filename:
            continue  # a library's page we never serve (flask-smorest's Swagger UI: we use Redoc)
        # Comments keep their length in lines, so line numbers stay right.
        source = JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
        for pattern in (INLINE_HANDLER, JAVASCRIPT_URL, INLINE_SCRIPT):
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"{filename}:{line}: {match.group(0)[:80]}")
    assert found == []


# --- in a browser: the confirm works under the CSP, no page logs an error -------------


@pytest.mark.browser
def test_cancelling_a_plan_asks_once_and_no_page_logs_an_error(app, factory, live_server, page):  # noqa: F811
    """Chromium enforces the CSP: an inline handler would log a violation and never ask."""

    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Básico")
    due = today_local() + timedelta(days=12)
    client = factory.client(reseller.id, trade_name="Padaria Central", plan_id=plan.id, due_date=due)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")
    page.goto(f"{live_server}/reseller/clients/{client.id}/billing")
    cancel = page.locator("#plan-cancel-form button")
    modal = page.locator("#confirm-modal")

    cancel.click()
    modal.wait_for(state="visible")
    assert "Padaria Central" in page.locator("#confirm-modal-message").inner_text()
    page.click("#confirm-modal-cancel")
    modal.wait_for(state="hidden")
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client.id))
        assert not sub.cancel_at_period_end  # cancelled: nothing sent

    cancel.click()
    modal.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#confirm-modal-ok")
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client.id))
        assert sub.cancel_at_period_end
    assert errors == []

"""Accessibility (issue 18): axe-core (WCAG 2.1 A and AA) finds no serious or critical
violation on any page of the application, in two passes: pt-BR with the demo's dark green
brand, and English with a light yellow brand (so the shades derived for text on white are
what is checked).

Every GET route of the url_map is either visited, as the principal who can reach it
(anonymous, the reseller's owner, a client user with every right, the owner logged in as
that user), or left out in :data:`EXCLUDED` with the reason: a new page cannot escape.
Both passes use reseller B of the route sweep (``b_objects``: one of everything), whose
name and colour change between them.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from core.branding import palette
from core.extensions import limiter
from tests.axe_setup import (
    CODE_LOGIN,
    ENROL_STAFF,
    TOTP_STAFF,
    TWO_ACCOUNTS,
    USER,
    forget_totp,
    login_link,
    set_brand,
    sweep_objects,
)
from tests.conftest import PASSWORD
from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: F401 - fixture
from tests.test_reseller_settings import fake_dns  # noqa: F401 - fixture
from tests.test_tenancy import b_objects  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
PASSES = (
    # (label, browser locale, reseller name, primary colour)
    ("pt-BR, demo brand", "pt-BR", "Revenda Demo", "#1f6f5c"),
    ("en, light brand", "en", "Amarelo Suporte", "#ffcc00"),
)

# GET routes that render no page of their own, and why.
EXCLUDED = {
    "static": "files",
    "core.index": "redirect only (to the login page)",
    "reseller.index": "redirect only (to the panel's home)",
    "core.healthz": "plain text",
    "core.dev_outbox": "development only (404 unless SHOW_DEV_OUTBOX)",
    "core.brand_asset": "an image",
    "core.favicon": "an image",
    "reseller.client_photo": "an image",
    "tenant.message_media": "a file",
    "portal.ticket_attachment": "a file",
    "desk_tickets.ticket_attachment": "a file",
    "mail_messages.original_message": "the raw e-mail (message/rfc822)",
    "mail_unknown.original": "the raw e-mail (message/rfc822)",
    "reseller.clients_export": "XLSX",
    "reseller.export_download": "XLSX",
    "reseller.audit_export_download": "CSV/JSON file",
    "portal.report_download": "XLSX/CSV",
    "tenant.stream": "the event stream",
    "whatsapp_webhook.verify": "a webhook",
    "api_oauth.metadata": "JSON",
    "api-docs.openapi_json": "JSON",
    "reseller.settings_brand_preview": "htmx fragment of the settings page (drawn inside it)",
}
EXCLUDED_PREFIXES = {"api_v1.": "the API's JSON resources"}

# Pages reached by a step before them (not by URL alone): the login flow's, the terms
# before they are accepted, the client deletion's code.
SCRIPTED = {
    "portal.terms_page",
    "reseller.client_delete_confirm",
    # htmx fragments, checked inside their pages once they are drawn there.
    "portal.kb_suggest",
    "reseller.client_user_email_check",
    "reseller.client_plan_preview",
    "auth.login",
    "auth.code",
    "auth.choose_account",
    "auth.second_factor",
    "auth.enrol_second_factor",
}
# Pages kept as screenshots (test-artifacts/axe-<lang>-<endpoint>.png).
SCREENSHOTS = {"auth.login", "reseller.clients", "reseller.client_page", "tenant.home", "reseller.settings"}
# Pages of the workspace seen again while the owner is logged in as the user (the banner).
AS_USER = ("tenant.home", "tenant.conversation", "portal.ticket_page", "portal.dashboard")


def describe(node: dict) -> str:
    """A failing element: its selector, and for a contrast its colours and ratio."""
    target = " ".join(node["target"])
    data = next((c.get("data") for c in node.get("any", []) if isinstance(c.get("data"), dict)), None)
    if data and "contrastRatio" in data:
        target += f" ({data['fgColor']} on {data['bgColor']}: {data['contrastRatio']})"
    return target


def excluded(endpoint: str) -> bool:
    return endpoint in EXCLUDED or any(endpoint.startswith(p) for p in EXCLUDED_PREFIXES)


def page_routes(app) -> dict[str, str]:
    """endpoint -> rule of every GET route that renders a page."""
    return {
        rule.endpoint: rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not excluded(rule.endpoint)
    }


def audience(rule: str) -> str:
    if rule.startswith(("/reseller/", "/account/")):
        return "owner"
    if rule.startswith("/app/"):
        return "user"
    return "anonymous"


class Sweep:
    """One pass: visits pages, runs axe on each, keeps what failed and what was seen."""

    def __init__(self, app, base: str, label: str, lang: str):
        self.app, self.base, self.label, self.lang = app, base, label, lang
        self.failures: list[str] = []
        self.visited: set[str] = set()
        self.pages = 0

    def path(self, endpoint: str, values: dict) -> str:
        rule = next(r for r in self.app.url_map.iter_rules() if r.endpoint == endpoint)
        return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]

    def check(self, page, name: str) -> None:
        """axe on the page as it is now (after load and any htmx request)."""
        page.wait_for_load_state("load")
        page.wait_for_function("!document.querySelector('.htmx-request')")
        # A toast fading in is read at its blended colours: axe waits for it to be shown
        # (the context asks for reduced motion, so Bootstrap's fades take no time).
        page.wait_for_function("!document.querySelector('.toast.showing')")
        endpoint = name.split(" ", 1)[0]
        if endpoint in SCREENSHOTS:
            page.screenshot(path=str(ARTIFACTS / f"axe-{self.lang}-{endpoint}.png"), full_page=True)
        result = page.evaluate(
            "options => axe.run(document, options).then(r => ({...r, lang: document.documentElement.lang}))",
            AXE_OPTIONS,
        )
        self.pages += 1
        if result["lang"] != self.lang:
            self.failures.append(f"[{self.label}] {name}: in {result['lang']}, not {self.lang}")
        for violation in result["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [describe(node) for node in violation["nodes"]][:6]
                self.failures.append(
                    f"[{self.label}] {name}: {violation['id']} ({violation['impact']}) {targets}"
                )

    def visit(self, page, endpoint: str, objects, status: int = 200, name: str | None = None) -> None:
        path = self.path(endpoint, {**objects.values, **objects.overrides.get(endpoint, {})})
        response = page.goto(self.base + path)
        if response.status != status or urlsplit(page.url).path != urlsplit(path).path:
            self.failures.append(
                f"[{self.label}] {endpoint} {path}: answered {response.status} at {page.url}"
            )
            return
        self.visited.add(endpoint)
        self.check(page, name or f"{endpoint} {path}")

    def log_in(self, page, email: str, landing: str) -> None:
        page.goto(f"{self.base}/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**{landing}*")


def anonymous_pages(sweep: Sweep, page, objects, routes) -> None:
    """The login flow's steps, the error pages and the public pages, logged out."""
    sweep.visit(page, "auth.login", objects)
    for email, step, endpoint in (
        (CODE_LOGIN, "/login/code", "auth.code"),
        (TWO_ACCOUNTS, "/login/account", "auth.choose_account"),
        (TOTP_STAFF, "/login/2fa", "auth.second_factor"),
        (ENROL_STAFF, "/login/2fa/setup", "auth.enrol_second_factor"),
    ):
        page.context.clear_cookies()
        sweep.log_in(page, email, step)
        sweep.visited.add(endpoint)
        sweep.check(page, endpoint)
    # The enrolment confirmed: the recovery codes, shown once.
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_selector("a.btn-primary")
    sweep.check(page, "recovery codes")
    page.context.clear_cookies()
    # The error pages: 404, 400 (a NUL byte), and the refused CSRF token's own 400 page.
    assert page.goto(f"{sweep.base}/no-such-page").status == 404
    sweep.check(page, "error 404")
    response = page.goto(f"{sweep.base}/login?q=%00")
    assert response.status == 400
    sweep.check(page, "error 400")
    page.goto(f"{sweep.base}/login")
    with page.expect_navigation():
        page.evaluate(
            "document.querySelector('input[name=csrf_token]').value = 'x';"
            "document.querySelector('form[method=post]').submit()"
        )
    sweep.check(page, "error 400 (CSRF)")
    for endpoint, rule in routes.items():
        if audience(rule) == "anonymous" and endpoint not in SCRIPTED:
            sweep.visit(page, endpoint, objects)


def user_pages(sweep: Sweep, page, objects, routes) -> None:
    """The workspace as a client user with every right (terms accepted on the way)."""
    sweep.log_in(page, USER, "/app/")
    # A new version of the terms waits for the user's acceptance (published each pass).
    sweep.visit(page, "portal.terms_page", objects)
    page.click("#accept")
    page.wait_for_url("**/app/")
    for endpoint, rule in routes.items():
        if audience(rule) == "user" and endpoint not in SCRIPTED:
            sweep.visit(page, endpoint, objects)
    # The articles suggested as a new ticket's subject is typed.
    sweep.visit(page, "portal.ticket_new", objects)
    page.fill("#t-subject", "Artigo")
    page.wait_for_selector("#kb-suggest :first-child")
    sweep.visited.add("portal.kb_suggest")
    sweep.check(page, "portal.kb_suggest (in the new ticket page)")
    # A staff page: refused (403).
    assert page.goto(sweep.base + sweep.path("reseller.staff_edit", objects.values)).status == 403
    sweep.check(page, "error 403")


def owner_pages(sweep: Sweep, page, objects, routes) -> None:
    """The panel as the reseller's owner, then the workspace logged in as the user."""
    sweep.log_in(page, "owner@b.test", "/reseller/clients")
    for endpoint, rule in routes.items():
        if audience(rule) == "owner" and endpoint not in SCRIPTED:
            if endpoint == "api_panel.login_link":
                login_link(sweep.app, objects)  # a link lives 60 seconds
            sweep.visit(page, endpoint, objects)
    # The brand's colour being typed: its sample and the shade links use, drawn by htmx.
    sweep.visit(page, "reseller.settings", objects)
    page.fill("#primary_color", "#ffee88")
    page.wait_for_selector("#brand-preview span[style*='background: #ffee88']")
    assert palette("#ffee88")["link"] in page.inner_text("#brand-adjusted")
    sweep.check(page, "reseller.settings (a light colour typed)")
    # What a plan change costs, and an e-mail address already in use, drawn by htmx.
    sweep.visit(page, "reseller.client_billing", objects)
    page.select_option("#change-plan", str(objects.other_plan_id))
    page.wait_for_selector("#plan-preview :first-child")
    sweep.visited.add("reseller.client_plan_preview")
    sweep.check(page, "reseller.client_plan_preview (in the billing page)")
    sweep.visit(page, "reseller.client_user_new", objects)
    page.fill("#email", TWO_ACCOUNTS)
    page.wait_for_selector("#email-check :first-child")
    sweep.visited.add("reseller.client_user_email_check")
    sweep.check(page, "reseller.client_user_email_check (in the user form)")
    # The client deletion's last step: the code asked for, then its page.
    sweep.visit(page, "reseller.client_delete", objects)
    page.click("#remove-client")
    page.wait_for_url("**/delete/confirm")
    sweep.visited.add("reseller.client_delete_confirm")
    sweep.check(page, "reseller.client_delete_confirm")
    page.goto(sweep.base + sweep.path("reseller.client_users", objects.values))
    page.click(f"form[action$='/users/{objects.user_id}/login-as'] button")
    page.wait_for_url("**/app/**")
    assert page.locator("#impersonation-banner").count() == 1
    for endpoint in AS_USER:
        sweep.visit(page, endpoint, objects, name=f"{endpoint} (logged in as the user)")


def test_no_serious_or_critical_axe_violation_on_any_page(
    app,
    factory,
    tenants,
    b_objects,  # noqa: F811
    live_server,  # noqa: F811
    fake_dns,  # noqa: F811
):
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    objects = sweep_objects(app, factory, tenants, b_objects)
    routes = page_routes(app)
    port = live_server.rsplit(":", 1)[1]
    base = f"http://b.test:{port}"
    failures, visited, pages = [], set(), 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP b.test 127.0.0.1"],
        )
        for label, locale, name, colour in PASSES:
            sweep = Sweep(app, base, label, lang=locale)
            for who, run in (("anonymous", anonymous_pages), ("user", user_pages), ("owner", owner_pages)):
                if who == "user":
                    factory.terms(tenants.b.id, f"# Termos ({label})")
                set_brand(app, tenants.b.id, name=name, colour=colour, require_staff_2fa=who == "anonymous")
                forget_totp(app, ENROL_STAFF)
                limiter.reset()  # the sweep logs in a dozen times a minute from one address
                context = browser.new_context(
                    locale=locale, viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
                )
                context.add_init_script(script=Axe().axe_script)
                page = context.new_page()
                run(sweep, page, objects, routes)
                context.close()
            failures += sweep.failures
            visited |= sweep.visited
            pages += sweep.pages
        browser.close()
    missed = sorted(set(routes) - visited)
    stale = sorted(e for e in EXCLUDED if e not in {r.endpoint for r in app.url_map.iter_rules()})
    print(f"axe: {pages} pages in {time.monotonic() - started:.0f} s")
    problems = [*failures]
    if missed:
        problems.append(f"GET routes neither visited nor excluded (with a reason): {missed}")
    if stale:
        problems.append(f"exclusions of routes that no longer exist: {stale}")
    assert not problems, "\n".join(problems)

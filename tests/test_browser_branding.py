"""Browser test (issue 12): a second reseller, created as `flask resellers create` does,
brands itself in the panel; its login page and the e-mails it sends change, and the
first reseller's stay as they were. Screenshots of both login pages and of the e-mail."""

from __future__ import annotations

import re
import time
from io import BytesIO

import pyotp
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

from tests.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CHROMIUM_ENV, live_server  # noqa: F401 - shared fixture

pytestmark = pytest.mark.browser

OWNER = "dono@verde.test"
OWNER_PASSWORD = "uma senha bem comprida 2026"
GREEN = "#1b7f3a"


@pytest.fixture
def chromium():
    """Chromium that resolves the resellers' host names to the live server."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP a.test 127.0.0.1, MAP verde.test 127.0.0.1"],
            env=CHROMIUM_ENV,
        )
        yield browser
        browser.close()


def new_page(chromium):
    return chromium.new_context(locale="pt-BR", viewport={"width": 1280, "height": 860}).new_page()


def wait_for_mail(mailbox, run_jobs, address: str, count: int) -> list[dict]:
    for _ in range(50):
        run_jobs()
        if len(mailbox.to(address)) >= count:
            return mailbox.to(address)
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {address}")


def logo_file(tmp_path):
    image = Image.new("RGB", (900, 300), GREEN)
    ImageDraw.Draw(image).ellipse((60, 60, 240, 240), fill="white")
    path = tmp_path / "verde.png"
    out = BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def button_colour(page) -> str:
    return page.eval_on_selector("button.btn-primary", "b => getComputedStyle(b).backgroundColor")


def test_branding_a_second_reseller_changes_its_login_page_and_its_emails(
    app,
    factory,
    runner_app,
    live_server,  # noqa: F811
    chromium,
    mailbox,
    run_jobs,
    tmp_path,
):
    factory.reseller(host="a.test", name="Revenda Alfa", owner_email="owner@a.test")
    command = f"resellers create --name Verde --host verde.test --owner-email {OWNER} --owner-password"
    created = runner_app.invoke(args=[*command.split(), OWNER_PASSWORD])
    assert created.exit_code == 0, created.output
    port = live_server.rsplit(":", 1)[1]
    verde, alfa = f"http://verde.test:{port}", f"http://a.test:{port}"

    page = new_page(chromium)
    page.goto(f"{verde}/login")
    assert page.locator("h1").inner_text() == "Verde"
    assert button_colour(page) == "rgb(13, 110, 253)"  # the default blue, from the reseller row
    page.screenshot(path=str(ARTIFACTS / "branding-verde-login-before.png"))

    # The owner's first login: the e-mailed code, then the authenticator (required by default).
    page.fill("#email", OWNER)
    page.fill("#password", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/code")
    code = re.search(r"\b(\d{6})\b", wait_for_mail(mailbox, run_jobs, OWNER, 1)[-1]["text"]).group(1)
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/2fa/setup")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.click("a.btn-primary")  # the recovery codes shown once: "I saved them, continue"
    page.wait_for_url("**/reseller/clients")

    # Brand: name, colour, logo; then the address e-mailed links use.
    page.click("[data-nav=administration]")  # the set-up pages' menu
    page.click("a.dropdown-item[href='/reseller/settings']")
    page.fill("#name", "Verde Soluções")
    page.fill("#primary_color", GREEN)
    page.set_input_files("#logo", str(logo_file(tmp_path)))
    page.fill("#support_email", "suporte@verde.test")
    page.fill("#mail_sender_name", "Equipe Verde")
    page.click("#save-brand")
    page.wait_for_selector("#toasts .toast[data-level=success]")
    assert (
        page.eval_on_selector(".brand-navbar", "n => getComputedStyle(n).backgroundColor")
        == "rgb(27, 127, 58)"
    )
    page.screenshot(path=str(ARTIFACTS / "branding-verde-settings.png"), full_page=True)
    page.goto(f"{verde}/reseller/settings/hosts")
    page.fill("#canonical_url", verde)
    page.click("#save-canonical")
    page.wait_for_selector("#toasts .toast[data-level=success]")

    # Its login page, seen by anyone: the new name, logo and colour.
    visitor = new_page(chromium)
    visitor.goto(f"{verde}/login")
    assert visitor.locator("h1").inner_text() == "Verde Soluções"
    assert visitor.eval_on_selector("#login-logo", "i => i.complete && i.naturalWidth") == 600
    assert button_colour(visitor) == "rgb(27, 127, 58)"
    assert visitor.title().endswith("Verde Soluções")
    visitor.screenshot(path=str(ARTIFACTS / "branding-verde-login-after.png"))

    # The first reseller keeps its own look.
    other = new_page(chromium)
    other.goto(f"{alfa}/login")
    assert other.locator("h1").inner_text() == "Revenda Alfa"
    assert button_colour(other) == "rgb(13, 110, 253)" and other.locator("#login-logo").count() == 0
    other.screenshot(path=str(ARTIFACTS / "branding-alfa-login.png"))

    # An e-mail it sends: the password link, branded, on the canonical address.
    visitor.click("a[href='/password/forgot']")
    visitor.fill("#email", OWNER)
    visitor.click("button[type=submit]")
    message = wait_for_mail(mailbox, run_jobs, OWNER, 2)[-1]
    assert message["from_header"].startswith("Equipe Verde <")
    assert message["reply_to"] == "suporte@verde.test"
    assert f"{verde}/password/" in message["text"]
    assert "background:#1b7f3a;color:#ffffff" in message["html"]
    mail_view = new_page(chromium)
    mail_view.set_content(message["html"])
    mail_view.wait_for_load_state("networkidle")
    assert mail_view.eval_on_selector("img", "i => i.complete && i.naturalWidth") == 600
    assert "Verde Soluções" in mail_view.inner_text("body")
    mail_view.screenshot(path=str(ARTIFACTS / "branding-verde-email.png"), full_page=True)

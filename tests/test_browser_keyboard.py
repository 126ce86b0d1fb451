"""Browser test (issue 18): the keyboard alone takes the demo owner from the login page
to the client list, a client's page and one of its tabs. At each step the skip link is
the first stop and works, and the element that holds the focus shows a visible ring
(its computed outline), on the page and on the brand-coloured navbar alike."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Reseller
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

# The focused element, described: what it is and how its ring is drawn.
FOCUSED = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), id: el.id, cls: el.className || '',
    href: el.getAttribute('href') || '', text: (el.innerText || el.value || '').trim().slice(0, 60),
    outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
    outlineColor: s.outlineColor, inNavbar: !!el.closest('.brand-navbar'),
    visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight,
  };
}"""
BRAND_TEXT = "getComputedStyle(document.documentElement).getPropertyValue('--brand-text').trim()"
TRANSPARENT = ("transparent", "rgba(0, 0, 0, 0)")


def _rgb(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def focused(page) -> dict:  # noqa: F811
    """The focused element, which must show a visible focus ring."""
    info = page.evaluate(FOCUSED)
    assert info["tag"] not in ("body", "html"), "the focus was lost"
    assert info["visible"], info
    assert info["outlineStyle"] not in ("none", "hidden") and info["outlineWidth"] >= 2, repr(info)
    assert info["outlineColor"] not in TRANSPARENT, info
    if info["inNavbar"] and "dropdown-item" not in info["cls"]:
        assert info["outlineColor"] == _rgb(page.evaluate(BRAND_TEXT)), info
    return info


def tab_until(page, predicate, limit: int = 60, back: bool = False) -> dict:  # noqa: F811
    """Press Tab (Shift+Tab) until the focused element matches, checking each stop's ring."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        info = focused(page)
        if predicate(info):
            return info
    raise AssertionError(f"not reached in {limit} presses of Tab")


def skip_link_first(page, key: str = "Tab") -> None:  # noqa: F811
    """From a fresh page: the first Tab reaches the skip link, shown; Enter moves the
    focus to the main content."""
    page.keyboard.press(key)
    info = focused(page)
    assert "skip-link" in info["cls"] and info["href"] == "#content", info
    assert info["text"] in ("Pular para o conteúdo", "Skip to content")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_keyboard_only_from_login_to_a_client_tab(app, factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    with app.app_context():
        # A light brand colour: the navbar's text (and focus ring) turns dark.
        db.session.get(Reseller, reseller.id).primary_color = "#ffd400"
        db.session.commit()
    plan = factory.plan(reseller.id, name="Profissional")
    for i in range(3):
        factory.client(reseller.id, trade_name=f"Empresa Teclado {i}", plan_id=plan.id, payment_status="paid")
    target = factory.client(reseller.id, trade_name="Padaria do Teclado", plan_id=plan.id)

    # Login: the skip link, then the e-mail, the password and Enter.
    page.goto(f"{live_server}/login")
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "email"  # autofocus
    skip_link_first(page, "Shift+Tab")  # nothing focusable between the skip link and it
    page.screenshot(path=str(ARTIFACTS / "keyboard-login-skip.png"))
    assert tab_until(page, lambda f: f["id"] == "email")["tag"] == "input"
    page.keyboard.type("owner@a.test")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(factory.password)
    page.screenshot(path=str(ARTIFACTS / "keyboard-login-password.png"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/reseller/clients")
    page.wait_for_load_state("load")

    # Client list: the skip link first, then the navbar, whose ring is the brand's text
    # colour (dark on this light brand); back with Shift+Tab, the skip link to the content.
    page.keyboard.press("Tab")
    assert "skip-link" in focused(page)["cls"]
    page.keyboard.press("Tab")
    nav = focused(page)
    assert nav["inNavbar"] and nav["outlineColor"] == _rgb(page.evaluate(BRAND_TEXT)) != "rgb(255, 255, 255)"
    page.screenshot(path=str(ARTIFACTS / "keyboard-navbar-focus.png"))
    skip_link_first(page, "Shift+Tab")

    # The row menu of the target opens with Space, the arrows walk it, Escape closes it.
    tab_until(page, lambda f: "row-menu-toggle" in f["cls"] and target.trade_name in _label(page))
    page.keyboard.press("Space")
    page.wait_for_selector(f"tr[data-client-id='{target.id}'] .dropdown-menu.show")
    page.keyboard.press("ArrowDown")
    item = focused(page)
    assert "dropdown-item" in item["cls"], item
    page.screenshot(path=str(ARTIFACTS / "keyboard-row-menu.png"))
    page.keyboard.press("Escape")
    assert "row-menu-toggle" in focused(page)["cls"]

    # Back to the client's name (Shift+Tab), Enter opens its page.
    link = tab_until(page, lambda f: f["href"] == f"/reseller/clients/{target.id}", back=True)
    assert link["text"] == target.trade_name
    page.screenshot(path=str(ARTIFACTS / "keyboard-client-link.png"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/reseller/clients/{target.id}")
    page.wait_for_load_state("load")

    # Client page: skip link, then the Users tab (a link: Enter follows it).
    skip_link_first(page)
    users = f"/reseller/clients/{target.id}/users"
    tab_until(page, lambda f: f["href"] == users and "nav-link" in f["cls"])
    page.screenshot(path=str(ARTIFACTS / "keyboard-client-tab.png"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/reseller/clients/{target.id}/users")
    page.wait_for_load_state("load")
    assert page.locator("#client-tabs a[aria-current=page]").get_attribute("data-tab") == "users"
    skip_link_first(page)
    page.screenshot(path=str(ARTIFACTS / "keyboard-client-users.png"))


def _label(page) -> str:  # noqa: F811
    return page.evaluate("document.activeElement.getAttribute('aria-label') || ''")

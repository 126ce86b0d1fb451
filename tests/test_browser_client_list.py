"""Browser test: the client list on a 1366 x 768 laptop screen shows every column and
the row's actions without scrolling sideways; the actions are labelled in a row menu
that the keyboard opens; a long legal name is cut, whole on hover."""

from __future__ import annotations

from datetime import date

import pytest

from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

LONG_LEGAL = "Companhia Brasileira de Panificação e Confeitaria do Interior Paulista Ltda"
LONG_TRADE = "Padaria e Confeitaria Nossa Senhora Aparecida"
NO_SIDEWAYS_SCROLL = "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
TABLE_FITS = (
    "(() => { const w = document.querySelector('.table-responsive');"
    " return w.scrollWidth <= w.clientWidth; })()"
)
# Nothing covers or cuts the element: the point at its centre belongs to it.
ON_TOP = (
    "el => { const r = el.getBoundingClientRect();"
    " return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
)


def owner_on_a_laptop(page, live_server: str, password: str) -> None:  # noqa: F811
    """Reseller A's owner logged in, on a 1366 x 768 screen, at the client list."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")


def test_the_list_fits_1366_pixels_with_its_actions_in_a_row_menu(factory, live_server, page):  # noqa: F811
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    plan = factory.plan(reseller.id, name="Profissional Plus Anual")
    made = []
    for i in range(12):
        made.append(
            factory.client(
                reseller.id,
                trade_name=f"{LONG_TRADE} {i:02d}",
                legal_name=LONG_LEGAL,
                plan_id=plan.id,
                payment_type="pix",
                payment_status="paid",
                paid_on=date(2026, 11, 10),
                due_date=date(2026, 12, 10),
                phone="+5511987654321",
                suspended="Contrato em revisão a pedido do cliente" if i % 4 == 0 else None,
                extras=1500,
            )
        )
    owner_on_a_laptop(page, live_server, factory.password)
    page.screenshot(path=str(ARTIFACTS / "client-list-1366.png"))

    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.evaluate(TABLE_FITS)
    # The panel's bar is one line (its set-up pages are in the Administration menu).
    assert page.evaluate("document.querySelector('.brand-navbar').getBoundingClientRect().height") < 70
    headers = page.locator("table.table-clients thead th")
    assert headers.count() == 11  # ten columns and the actions
    for i in range(headers.count()):
        assert headers.nth(i).is_visible()

    # The legal name is cut on one line, the whole of it in the title.
    legal = page.locator(f"tr[data-client-id='{made[-1].id}'] [data-legal-name]")
    assert legal.get_attribute("title") == LONG_LEGAL
    assert legal.evaluate("el => el.scrollWidth > el.clientWidth")

    # The row menu of the first row opens from the keyboard and lists the labelled actions.
    newest = made[-1]
    row = page.locator("tbody tr[data-client-id]").first
    assert row.get_attribute("data-client-id") == str(newest.id)
    toggle = row.locator("[data-row-menu]")
    assert toggle.get_attribute("aria-label") == f"Ações de {newest.trade_name}"
    toggle.scroll_into_view_if_needed()
    toggle.focus()
    page.keyboard.press("Enter")
    menu = row.locator(".dropdown-menu")
    menu.wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    labels = [text.strip() for text in menu.locator(".dropdown-item").all_inner_texts()]
    assert labels == ["Ligar para +55 11 98765-4321", "Editar", "Usuários", "Cobrança", "Excluir"]
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.classList.contains('dropdown-item')")
    page.screenshot(path=str(ARTIFACTS / "client-list-row-menu.png"))
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The last row's menu is whole on the screen, not cut by the table's scrolling box.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    last = page.locator("tbody tr[data-client-id]").last
    last.locator("[data-row-menu]").click()
    delete = last.locator("a[data-delete-link]")
    delete.wait_for(state="visible")
    box = delete.bounding_box()
    assert box["y"] + box["height"] <= 768
    assert delete.evaluate(ON_TOP)
    page.screenshot(path=str(ARTIFACTS / "client-list-last-row-menu.png"))


def test_a_new_reseller_is_asked_for_its_first_client(factory, live_server, page):  # noqa: F811
    factory.reseller(host="a.test", owner_email="owner@a.test")
    owner_on_a_laptop(page, live_server, factory.password)
    prompt = page.locator("#first-client")
    assert "Adicione o seu primeiro cliente" in prompt.inner_text()
    assert "Nenhum cliente corresponde" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "client-list-first-client.png"))
    prompt.locator("a:has-text('Adicionar cliente')").click()
    page.wait_for_url("**/reseller/clients/new")


def test_a_rows_status_button_submits_the_pages_one_status_form(factory, live_server, page):  # noqa: F811
    """Each row's Inactivate/Reactivate button posts the page's one hidden form (its
    CSRF token and the list to come back to) to that row's address, after the
    confirmation, and the list comes back with its filters."""
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    keep = factory.client(reseller.id, trade_name="Mercado Fica")
    leave = factory.client(reseller.id, trade_name='Bar "Sai" <b>')
    owner_on_a_laptop(page, live_server, factory.password)
    page.goto(f"{live_server}/reseller/clients?sort=trade_name&dir=asc")
    button = page.locator(f"tr[data-client-id='{leave.id}'] button[formaction$='/inactivate']")
    assert button.get_attribute("form") == "client-status"
    button.click()
    page.locator("#confirm-modal").wait_for(state="visible")
    asked = page.locator("#confirm-modal-message").inner_text()
    assert asked.startswith('Inativar Bar "Sai" <b>? Ele sai da lista')
    page.click("#confirm-modal-cancel")
    page.locator("#confirm-modal").wait_for(state="hidden")
    assert page.locator(f"tr[data-client-id='{leave.id}']").count() == 1  # cancelled: nothing posted
    button.click()
    with page.expect_navigation(url="**/reseller/clients?sort=trade_name&dir=asc"):
        page.click("#confirm-modal-ok")
    assert page.locator(f"tr[data-client-id='{leave.id}']").count() == 0
    assert page.locator(f"tr[data-client-id='{keep.id}']").count() == 1

    page.goto(f"{live_server}/reseller/clients?status=inactivated")
    page.locator(f"tr[data-client-id='{leave.id}'] button[formaction$='/reactivate']").click()
    page.wait_for_url("**/reseller/clients?status=inactivated")
    assert page.locator(f"tr[data-client-id='{leave.id}']").count() == 0
    page.goto(f"{live_server}/reseller/clients")
    assert page.locator(f"tr[data-client-id='{leave.id}']").count() == 1

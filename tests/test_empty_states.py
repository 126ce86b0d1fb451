"""Every list, when empty, says what to do next (issue 18, core/templates/_empty_state.html):
"nothing yet" with the action the user may take, or "nothing matches these filters" with
a way to clear them."""

from __future__ import annotations

import re

import pytest

EMPTY = re.compile(r'data-empty-state="(none-yet|filtered)"')
ACTION = re.compile(r'href="([^"]*)" data-empty-action')
CLEAR = re.compile(r'href="([^"]*)" data-clear-filters')


def _empty(body: str) -> tuple[str | None, str | None, str | None]:
    """The empty state's kind, its action's address and its clear-filters address."""
    kind = EMPTY.search(body)
    action = ACTION.search(body)
    clear = CLEAR.search(body)
    return (
        kind.group(1) if kind else None,
        action.group(1) if action else None,
        clear.group(1) if clear else None,
    )


@pytest.fixture
def staff(make_browser, tenants):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


@pytest.mark.parametrize(
    "path, action",
    [
        ("/reseller/desks", "/reseller/desks/new"),
        ("/reseller/kb", "/reseller/kb/new"),
        ("/reseller/api", "#name"),
    ],
)
def test_an_empty_staff_list_offers_its_first_step(staff, path, action):
    page = staff.get(path)
    assert page.status_code == 200
    assert _empty(page.get_data(as_text=True)) == ("none-yet", action, None)


@pytest.mark.parametrize(
    "path, clear",
    [
        ("/reseller/desks?q=zzz-nothing", "/reseller/desks"),
        ("/reseller/kb?q=zzz-nothing", "/reseller/kb"),
        ("/reseller/clients?trade_name=zzz-nothing", "/reseller/clients"),
        ("/reseller/tickets?q=zzz-nothing", "/reseller/tickets"),
        ("/reseller/domains?q=zzz-nothing", "/reseller/domains"),
    ],
)
def test_a_list_emptied_by_its_filters_offers_to_clear_them(staff, path, clear):
    page = staff.get(path)
    assert page.status_code == 200
    kind, action, cleared = _empty(page.get_data(as_text=True))
    assert (kind, action, cleared) == ("filtered", None, clear)


def test_the_ticket_queue_with_its_default_filters_is_not_called_filtered(staff):
    kind, _action, clear = _empty(staff.get("/reseller/tickets").get_data(as_text=True))
    assert kind == "none-yet" and clear is None


def test_a_new_reseller_without_plans_is_offered_its_first(factory, make_browser):
    factory.reseller(host="fresh.test", owner_email="owner@fresh.test")
    owner = make_browser("fresh.test")
    owner.login("owner@fresh.test")
    assert _empty(owner.get("/reseller/plans").get_data(as_text=True)) == (
        "none-yet",
        "/reseller/plans/new",
        None,
    )


def test_the_workspace_lists_say_what_to_do(make_browser, tenants):
    user = make_browser()
    user.login(tenants.a.client.email)
    contacts = user.get("/app/contacts").get_data(as_text=True)
    assert _empty(contacts) == ("none-yet", "#contact-name", None)
    searched = user.get("/app/contacts?q=zzz").get_data(as_text=True)
    assert _empty(searched) == ("filtered", None, "/app/contacts")
    inbox = user.get("/app/?view=all").get_data(as_text=True)
    assert 'id="inbox-empty"' in inbox and _empty(inbox)[0] == "none-yet"

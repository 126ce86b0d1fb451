"""Every form control of the main pages has a name a screen reader reads (issue 18): a
<label for>, a wrapping <label>, aria-label, aria-labelledby or a title."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

UNLABELLED_TYPES = ("hidden", "submit", "button", "image", "reset")


class _Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls: list[tuple[str, dict, bool]] = []
        self.label_for: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif self._is_control(tag, attrs):
            self.controls.append((tag, attrs, self._in_label > 0))

    @staticmethod
    def _is_control(tag: str, attrs: dict) -> bool:
        shown = attrs.get("type") not in UNLABELLED_TYPES and "hidden" not in attrs
        return tag in ("input", "select", "textarea") and shown

    def handle_endtag(self, tag):
        if tag == "label":
            self._in_label -= 1


def unlabelled(body: str) -> list[tuple]:
    page = _Controls()
    page.feed(body)
    return [
        (tag, attrs.get("name"), attrs.get("id"))
        for tag, attrs, wrapped in page.controls
        if not (
            wrapped
            or attrs.get("aria-label")
            or attrs.get("aria-labelledby")
            or attrs.get("title")
            or attrs.get("id") in page.label_for
        )
    ]


STAFF_PAGES = [
    "/reseller/clients",
    "/reseller/clients/new",
    "/reseller/clients/{client}",
    "/reseller/clients/{client}/edit",
    "/reseller/clients/{client}/users",
    "/reseller/clients/{client}/users/new",
    "/reseller/clients/{client}/billing",
    "/reseller/clients/{client}/tickets",
    "/reseller/clients/{client}/domains",
    "/reseller/clients/{client}/history",
    "/reseller/clients/deletions",
    "/reseller/plans",
    "/reseller/plans/new",
    "/reseller/staff",
    "/reseller/staff/invite",
    "/reseller/roles",
    "/reseller/roles/new",
    "/reseller/desks",
    "/reseller/desks/new",
    "/reseller/tickets",
    "/reseller/kb",
    "/reseller/kb/new",
    "/reseller/api",
    "/reseller/domains",
    "/reseller/audit",
    "/reseller/settings",
    "/reseller/settings/security",
    "/reseller/settings/hosts",
    "/reseller/settings/custom-fields",
    "/reseller/terms",
    "/reseller/mail/unknown",
    "/account/security",
]
USER_PAGES = [
    "/app/",
    "/app/contacts",
    "/app/teams",
    "/app/tickets",
    "/app/tickets/new",
    "/app/approvals",
    "/app/kb",
    "/app/portal",
    "/app/subscription",
    "/account/security",
]


@pytest.fixture
def staff(make_browser, tenants):
    browser = make_browser()
    browser.login("owner@a.test")
    return browser


@pytest.fixture
def user(make_browser, tenants):
    browser = make_browser()
    browser.login(tenants.a.client.email)
    return browser


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_control_of_the_panel_is_labelled(staff, tenants, path):
    response = staff.get(path.format(client=tenants.a.client.id))
    assert response.status_code == 200
    assert unlabelled(response.get_data(as_text=True)) == []


@pytest.mark.parametrize("path", USER_PAGES)
def test_every_control_of_the_workspace_is_labelled(user, path):
    response = user.get(path)
    assert response.status_code == 200
    assert unlabelled(response.get_data(as_text=True)) == []


def test_an_unlabelled_control_is_found():
    """The check itself: a bare input is reported, a labelled one is not."""
    assert unlabelled('<label for="a">A</label><input id="a"><input name="b">') == [("input", "b", None)]

"""A refused form ties each error to its field (``aria-invalid`` and ``aria-describedby``
naming the message), says so at the top (``role="alert"``) and keeps what was typed
(issue 18)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


class _Page(HTMLParser):
    """Each element's attributes by id, the controls marked invalid, and the text of
    each element with an id."""

    def __init__(self):
        super().__init__()
        self.invalid: list[dict] = []
        self.feedback_ids: list[str | None] = []
        self.text: dict[str, str] = {}
        self.alerts: list[str] = []
        self._open: list[tuple[str, str | None, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("aria-invalid") == "true":
            self.invalid.append(attrs)
        classes = (attrs.get("class") or "").split()
        if "invalid-feedback" in classes:
            self.feedback_ids.append(attrs.get("id"))
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        self._open.append((tag, attrs.get("id"), attrs.get("role") == "alert"))
        if attrs.get("id"):
            self.text.setdefault(attrs["id"], "")

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _tag, ident, alert in self._open:
            if ident:
                self.text[ident] += data
            if alert and data.strip():
                self.alerts.append(data.strip())


def _checked(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    assert page.invalid, "no control marked invalid"
    for control in page.invalid:
        described = (control.get("aria-describedby") or "").split()
        errors = [ident for ident in described if ident.endswith("-error")]
        assert errors, control
        for ident in errors:
            assert page.text.get(ident, "").strip(), f"{ident} names no message"
    assert page.feedback_ids and all(page.feedback_ids), "an error message without an id"
    assert page.alerts, "no summary announced"
    return page


def test_the_client_form_ties_each_error_to_its_field_and_keeps_the_input(owner):
    response = owner.post(
        "/reseller/clients/new",
        {"trade_name": "", "legal_name": "Razão Mantida Ltda", "email": "x@y.test", "document_type": "cnpj"},
    )
    assert response.status_code in (200, 400, 422)
    body = response.get_data(as_text=True)
    page = _checked(body)
    names = {control.get("name") for control in page.invalid}
    assert {"trade_name", "document"} <= names
    assert 'value="Razão Mantida Ltda"' in body and 'value="x@y.test"' in body


def test_the_plan_form_ties_each_error_to_its_field(owner):
    response = owner.post("/reseller/plans/new", {"name": "Plano Mantido", "price": "abc", "sessions": "-1"})
    body = response.get_data(as_text=True)
    page = _checked(body)
    assert {"price", "sessions"} <= {control.get("name") for control in page.invalid}
    assert 'value="Plano Mantido"' in body and 'value="abc"' in body


@pytest.mark.parametrize("path", ["/reseller/desks/new"])
def test_the_desk_macros_tie_each_error_to_its_field(owner, path):
    body = owner.post(path, {"name": ""}).get_data(as_text=True)
    _checked(body)


def test_the_field_macro_ties_a_refused_domain_to_its_field(owner, tenants):
    response = owner.post(f"/reseller/clients/{tenants.a.client.id}/domains", {"domain": "not a domain"})
    body = response.get_data(as_text=True)
    page = _checked(body)
    assert [control.get("name") for control in page.invalid] == ["domain"]
    assert 'value="not a domain"' in body

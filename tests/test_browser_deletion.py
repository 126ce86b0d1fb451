"""Browser test: the three steps of deleting a client (warning with counts, e-mailed
code, confirmation), then the client is gone from the list and the deletion shows in
the list of deleted clients."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from reseller.models import ClientDeletion
from tenant.models import Client
from tests.test_browser import ARTIFACTS, live_server, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


def test_staff_delete_a_client_in_three_steps(app, factory, live_server, page, mailbox, run_jobs):  # noqa: F811
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Oficina do Zé")
    factory.user(client.id, email="ze@oficina.test")
    keeper = factory.client(reseller.id, trade_name="Fica Aqui")

    page.goto(f"{live_server}/login")
    page.fill("#email", "owner@a.test")
    page.fill("#password", factory.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/reseller/clients")

    # Step 1: "Delete" in the row's menu shows what will be removed.
    page.click(f"tr[data-client-id='{client.id}'] [data-row-menu]")
    page.click(f"tr[data-client-id='{client.id}'] a[data-delete-link]")
    page.wait_for_url(f"**/reseller/clients/{client.id}/delete")
    warning = page.locator("#deletion-warning").inner_text()
    assert "não pode ser desfeita" in warning and "48 horas" in warning
    assert page.locator("tr[data-count='users'] td.num").inner_text() == "2"
    page.screenshot(path=str(ARTIFACTS / "delete-step1-warning.png"), full_page=True)

    # Step 2: "Remove client" e-mails a code and explains why it is asked.
    page.click("#remove-client")
    page.wait_for_url(f"**/reseller/clients/{client.id}/delete/confirm")
    assert "owner@a.test" in page.locator("#code-why").inner_text()
    run_jobs()
    text = mailbox.to("owner@a.test")[-1]["text"]
    code = re.search(r"^\s+(\d{6})\s*$", text, re.M).group(1)
    page.screenshot(path=str(ARTIFACTS / "delete-step2-code.png"), full_page=True)

    # Step 3: the right code deletes it.
    page.fill("#code", code)
    page.click("#confirm-deletion")
    page.wait_for_url("**/reseller/clients/deletions**")
    assert "Oficina do Zé foi excluído" in page.content()
    row = page.locator("#deletions tbody tr").first
    assert "Oficina do Zé" in row.inner_text() and row.get_attribute("data-status") == "pending"
    page.screenshot(path=str(ARTIFACTS / "delete-step3-done.png"), full_page=True)

    page.goto(f"{live_server}/reseller/clients")
    assert page.locator(f"tr[data-client-id='{client.id}']").count() == 0
    assert page.locator(f"tr[data-client-id='{keeper.id}']").count() == 1
    with app.app_context():
        assert db.session.get(Client, client.id).deleted_at is not None
        assert (
            db.session.scalar(select(ClientDeletion.status).where(ClientDeletion.client_id == client.id))
            == "pending"
        )

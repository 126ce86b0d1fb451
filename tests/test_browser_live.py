"""The live inbox in Chromium: a message posted to the signed inbound endpoint appears in
an open inbox without a reload, its unread count rises and clears once opened; a staff
member logged in as a chat-level-1 user sees only what that user sees.

The live server has one thread (requests share the test's transaction), so each stream
lasts one second here: the browser reconnects with ``Last-Event-ID`` and receives what
was published meanwhile, which also covers resuming.
"""

from __future__ import annotations

import json

import pytest

from auth import permissions as perm
from core.extensions import db
from tenant import inbox
from tenant.inbox_models import Contact, Conversation
from tenant.models import Client
from tests.test_browser import live_server, log_in, page  # noqa: F401 - shared fixtures
from tests.test_workspace import channel, set_client, set_user

pytestmark = pytest.mark.browser

WAIT = 20_000  # ms: a stream of one second, a reconnection, a throttled refresh


def post_inbound(tab, server: str, key: str, secret: str, payload: dict) -> dict:
    """The contact's message through the signed inbound endpoint, over HTTP."""
    body = json.dumps(payload).encode()
    answer = tab.request.post(
        f"{server}/inbound/{key}",
        data=body,
        headers={"Content-Type": "application/json", "X-Signature": inbox.channel_signature(secret, body)},
    )
    assert answer.status == 201, answer.text()
    return answer.json()


def conversation_for(app, client_id: int, account_id: int, phone: str) -> int:
    with app.app_context():
        reseller_id = db.session.get(Client, client_id).reseller_id
        contact = Contact(reseller_id=reseller_id, client_id=client_id, name="Cliente fiel", phone=phone)
        db.session.add(contact)
        db.session.flush()
        conversation = Conversation(
            reseller_id=contact.reseller_id,
            client_id=client_id,
            contact_id=contact.id,
            assigned_account_id=account_id,
        )
        db.session.add(conversation)
        db.session.commit()
        return conversation.id


def wait_live(tab) -> None:
    tab.wait_for_selector("#live-root[data-state=open]", state="attached", timeout=WAIT)


def test_a_received_message_reaches_open_inboxes_as_each_may_see_it(
    app,
    factory,
    tenants,
    live_server,  # noqa: F811 - the shared fixture
    page,  # noqa: F811 - the shared fixture
):
    client_id = tenants.a.client.id
    set_client(app, client_id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    key, secret = channel(app, client_id)
    factory.user(client_id, email="gerente@alpha.test")
    agent = factory.user(client_id, email="agente@alpha.test")
    set_user(app, agent.id, chat_level=1, view_phones=False)
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    agents_own = conversation_for(app, client_id, agent.id, "+5511955550001")
    app.config["LIVE_STREAM_SECONDS"] = 1
    other_context = page.context.browser.new_context(locale="pt-BR", viewport={"width": 1400, "height": 900})
    try:
        log_in(page, live_server, "gerente@alpha.test", factory.password, landing="**/app/**")
        page.goto(f"{live_server}/app/?view=all")
        wait_live(page)

        staff_page = other_context.new_page()
        log_in(staff_page, live_server, "sup@a.test", factory.password)
        token = staff_page.evaluate("document.querySelector('meta[name=csrf-token]').content")
        started = staff_page.request.post(
            f"{live_server}/reseller/clients/{client_id}/users/{agent.id}/login-as",
            form={"csrf_token": token},
            max_redirects=0,
        )
        assert started.status == 302
        staff_page.goto(f"{live_server}/app/?view=mine")
        wait_live(staff_page)
        assert staff_page.locator(f"[data-conversation-id='{agents_own}']").count() == 1

        # A new contact writes: the manager's list shows it, unread, without a reload.
        hello = {"from": "11900000001", "text": "Olá, tudo bem?", "id": "w1"}
        queued = post_inbound(page, live_server, key, secret, hello)
        row = f"[data-conversation-id='{queued['conversation_id']}']"
        page.wait_for_selector(f"{row}[data-unread='1']", timeout=WAIT)
        assert "Olá, tudo bem?" in page.locator(row).inner_text()
        page.wait_for_selector("[data-tab='all'] .unread-tab", timeout=WAIT)
        # Then the agent's own contact writes twice: the agent's page (the staff member
        # acting as it) shows that count, masked number, and never the queued contact.
        for n, text in ((2, "Primeira"), (3, "Segunda")):
            message = {"from": "+5511955550001", "text": text, "id": f"w{n}"}
            post_inbound(page, live_server, key, secret, message)
        own = f"[data-conversation-id='{agents_own}']"
        staff_page.wait_for_selector(f"{own}[data-unread='2']", timeout=WAIT)
        assert "Segunda" in staff_page.locator(own).inner_text()
        assert "****" in staff_page.locator(f"{own} .phone").inner_text()
        assert staff_page.locator(row).count() == 0
        page.wait_for_selector(f"{own}[data-unread='2']", timeout=WAIT)

        # The manager opens the new conversation: read; back in the list, no count.
        page.click(row)
        page.wait_for_url(f"**/app/conversations/{queued['conversation_id']}")
        # The open conversation shows the contact's next message as it arrives (and, open, reads it).
        wait_live(page)
        more = {"from": "11900000001", "text": "Mais uma coisa", "id": "w4"}
        post_inbound(page, live_server, key, secret, more)
        page.wait_for_selector("#conversation-messages :text('Mais uma coisa')", timeout=WAIT)
        page.goto(f"{live_server}/app/?view=all")
        page.wait_for_selector(f"{row}[data-unread='0']", timeout=WAIT)
        assert page.locator(f"{row} .unread-count").count() == 0
        # The staff member opened nothing for the agent: its count stays.
        staff_page.goto(f"{live_server}/app/?view=mine")
        assert staff_page.locator(f"{own}[data-unread='2']").count() == 1
    finally:
        app.config["LIVE_STREAM_SECONDS"] = 0
        other_context.close()

"""The inbox list's live parts: the last message's preview (escaped), unread counts per
conversation and per tab, read markers written when the user (never staff acting as it)
opens a conversation, and the user's choice of sound and title badge."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth import permissions as perm
from core.extensions import db
from core.models import AuditEvent
from tenant import reads
from tenant.inbox_models import ConversationRead, InboxPreference
from tests.test_workspace import channel, deliver, make_user, set_client


@pytest.fixture
def ws(app, tenants, make_browser):
    set_client(app, tenants.a.client.id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    key, secret = channel(app, tenants.a.client.id)
    return tenants.a.client.id, key, secret, make_browser()


def row_of(page: str, conversation_id: int) -> str:
    match = re.search(rf'<a [^>]*data-conversation-id="{conversation_id}".*?</a>', page, re.S)
    assert match, f"conversation {conversation_id} is not in the list"
    return match.group(0)


def unread_of(page: str, conversation_id: int) -> int:
    return int(re.search(r'data-unread="(\d+)"', row_of(page, conversation_id)).group(1))


def tab_badge(page: str, tab: str) -> str | None:
    match = re.search(rf'data-tab="{tab}">[^<]*(?:<span [^>]*unread-tab[^>]*>([^<]+)</span>)?', page)
    return match.group(1) if match else None


def preference_of(account_id: int) -> InboxPreference:
    return db.session.scalar(select(InboxPreference).where(InboxPreference.account_id == account_id))


def test_unread_counts_rise_with_each_message_and_clear_when_the_user_opens_it(app, tenants, ws):
    _client_id, key, secret, http = ws
    user = make_user(app, tenants, level=6, email="le@alpha.test")
    first = deliver(http, key, secret, {"from": "11900000001", "text": "um", "id": "1"}).json
    deliver(http, key, secret, {"from": "11900000001", "text": "dois", "id": "2"})
    deliver(http, key, secret, {"from": "11900000002", "text": "outro", "id": "3"})
    conversation_id = first["conversation_id"]
    page = user.get("/app/?view=all").get_data(as_text=True)
    assert unread_of(page, conversation_id) == 2
    assert (tab_badge(page, "all"), tab_badge(page, "queue"), tab_badge(page, "mine")) == ("2", "2", None)
    assert user.get(f"/app/conversations/{conversation_id}").status_code == 200
    page = user.get("/app/?view=all").get_data(as_text=True)
    assert unread_of(page, conversation_id) == 0
    assert tab_badge(page, "all") == "1"
    deliver(http, key, secret, {"from": "11900000001", "text": "três", "id": "4"})
    assert unread_of(user.get("/app/?view=all").get_data(as_text=True), conversation_id) == 1
    # Another user of the client has read nothing.
    other = make_user(app, tenants, level=6, email="outro@alpha.test")
    assert unread_of(other.get("/app/?view=all").get_data(as_text=True), conversation_id) == 3


def test_the_list_shows_the_last_message_escaped_and_the_time_since(app, tenants, ws):
    _client_id, key, secret, http = ws
    user = make_user(app, tenants, level=6, email="ve@alpha.test")
    long_text = "<script>alert(1)</script> " + "palavra " * 30
    sent = deliver(http, key, secret, {"from": "11900000001", "text": long_text, "id": "1"}).json
    row = row_of(user.get("/app/?view=all").get_data(as_text=True), sent["conversation_id"])
    assert "<script>alert(1)</script>" not in row and "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    preview = re.search(r'conversation-preview">([^<]*)</div>', row).group(1)
    assert preview.endswith("…") and len(preview) < len(long_text)
    assert re.search(r"<time [^>]*>agora</time>", row)


def test_staff_logged_in_as_the_user_read_nothing_on_its_behalf(app, factory, tenants, ws, make_browser):
    client_id, key, secret, http = ws
    user = make_user(app, tenants, level=6, email="dono-da-leitura@alpha.test")
    conversation_id = deliver(http, key, secret, {"from": "11900000001", "text": "oi", "id": "1"}).json[
        "conversation_id"
    ]
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    staff = make_browser()
    staff.login("sup@a.test")
    staff.post(f"/reseller/clients/{client_id}/users/{user.account_id}/login-as")
    assert staff.get(f"/app/conversations/{conversation_id}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ConversationRead)) is None
    assert unread_of(user.get("/app/?view=all").get_data(as_text=True), conversation_id) == 1
    # The same count the user has, on the impersonator's page.
    assert unread_of(staff.get("/app/?view=all").get_data(as_text=True), conversation_id) == 1


def test_a_user_chooses_a_sound_and_the_title_badge_and_staff_acting_as_it_cannot(
    app, factory, tenants, ws, make_browser
):
    client_id, _key, _secret, _http = ws
    user = make_user(app, tenants, level=1, email="som@alpha.test")
    page = user.get("/app/").get_data(as_text=True)
    assert 'id="notify-sound"' in page and 'id="notify-title" checked' in page
    assert user.post("/app/inbox/notifications", {"sound": "1"}).status_code == 303
    with app.app_context():
        chosen = preference_of(user.account_id)
        assert (chosen.sound, chosen.title_badge) == (True, False)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.preferences_changed"))
    stream = user.get("/app/stream").get_data(as_text=True)
    assert '"kind":"hello","sound":true,"title_badge":false' in stream
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup2@a.test")
    staff = make_browser()
    staff.login("sup2@a.test")
    staff.post(f"/reseller/clients/{client_id}/users/{user.account_id}/login-as")
    assert staff.post("/app/inbox/notifications", {"title_badge": "1"}).status_code == 303
    with app.app_context():
        chosen = preference_of(user.account_id)
        assert (chosen.sound, chosen.title_badge) == (True, False)


def test_htmx_asks_for_the_list_alone(app, tenants, ws):
    user = make_user(app, tenants, level=6, email="htmx@alpha.test")
    fragment = user.get("/app/?view=all", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'data-tab="all"' in fragment


def test_the_tabs_count_among_the_most_recently_active_conversations(app, tenants, ws, monkeypatch):
    _client_id, key, secret, http = ws
    user = make_user(app, tenants, level=6, email="janela@alpha.test")
    for n in (1, 2, 3):
        deliver(http, key, secret, {"from": f"1190000000{n}", "text": "oi", "id": str(n)})
    assert tab_badge(user.get("/app/?view=all").get_data(as_text=True), "all") == "3"
    monkeypatch.setattr(reads, "TAB_WINDOW", 2)
    page = user.get("/app/?view=all").get_data(as_text=True)
    assert tab_badge(page, "all") == "2"
    # Each row still shows its own count.
    assert sum(1 for n in re.findall(r'data-unread="(\d+)"', page) if n != "0") == 3

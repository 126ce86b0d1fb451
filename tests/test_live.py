"""The live workspace: the bus (in process and on Redis), events sent only when their
transaction commits, each event filtered for its reader (chat levels, teams, masking,
"log in as"), and the stream closing when its session ends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from core import live as core_live
from core.extensions import db
from core.live import Bus, RedisBus, get_bus
from tenant import inbox, live
from tenant.inbox_models import Conversation, Message
from tenant.live_filter import Reader, shown
from tenant.states import LiveChange, LiveKind
from tenant.users import deactivate_client_user, update_client_user
from tests.test_workspace import channel, deliver, make_user, seed_conversations, set_client


@pytest.fixture
def ws(app, tenants, make_browser):
    """Client A with 10 plan sessions and a signed channel (as in test_workspace)."""
    set_client(app, tenants.a.client.id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    key, secret = channel(app, tenants.a.client.id)
    return tenants.a.client.id, key, secret, make_browser()


def frames(body: str) -> list[tuple[int | None, dict]]:
    """The data frames of a stream's body, with their ids."""
    out = []
    for block in body.split("\n\n"):
        event_id, data = None, None
        for line in block.splitlines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if data is not None:
            out.append((event_id, data))
    return out


def replay(browser, after: int = 0) -> list[dict]:
    """Everything the stream sends this reader from event ``after`` on (the suite's
    streams end once the backlog is sent)."""
    response = browser.get("/app/stream", headers={"Last-Event-ID": str(after)})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    return [data for _id, data in frames(response.get_data(as_text=True)) if data["kind"] != LiveKind.HELLO]


# --- the bus -------------------------------------------------------------------------------


def test_in_process_bus_fans_out_and_resumes_from_the_last_id():
    bus = Bus()
    first, _ = bus.subscribe("client:1")
    second, _ = bus.subscribe("client:1")
    elsewhere, _ = bus.subscribe("client:2")
    sent = [bus.send("client:1", {"n": n}) for n in range(3)]
    assert [first.get(0).data for _ in sent] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert second.get(0).id == sent[0].id
    assert elsewhere.get(0) is None
    _, missed = bus.subscribe("client:1", after=sent[0].id)
    assert [e.data for e in missed] == [{"n": 1}, {"n": 2}]
    # An id this channel never reached (the bus restarted): the reader must reload.
    assert bus.subscribe("client:1", after=99)[1] is None
    first.close()
    bus.send("client:1", {"n": 3})
    assert first.get(0) is None


def test_in_process_bus_tells_a_reader_that_missed_more_than_is_kept():
    bus = Bus()
    events = [bus.send("client:1", {"n": n}) for n in range(core_live.BACKLOG + 5)]
    assert bus.subscribe("client:1", after=events[2].id)[1] is None
    kept = bus.subscribe("client:1", after=events[10].id)[1]
    assert kept[0].id == events[11].id


def test_redis_bus_carries_events_between_two_processes(app):
    url = app.config.get("REDIS_URL")
    if not url:
        pytest.skip("Redis is checked in the PostgreSQL+Redis suite")
    web_1, web_2 = RedisBus(url), RedisBus(url)
    reader, _ = web_1.subscribe("client:7")
    sent = web_2.send("client:7", {"hello": "world"})
    received = reader.get(timeout=30)
    assert received == sent and received.data == {"hello": "world"}
    assert web_1.last_id("client:7") == sent.id
    _, missed = web_1.subscribe("client:7", after=0)
    assert [e.id for e in missed] == [sent.id]


def test_an_event_is_sent_when_its_transaction_commits_and_never_on_rollback(app, tenants, ctx):
    bus = get_bus(app)
    channel = live.channel(tenants.a.client.id)
    reader, _ = bus.subscribe(channel)
    with reader:
        start = bus.last_id(channel)
        live.sessions_changed(tenants.a.client.id)
        assert core_live.pending(db.session())  # waiting for the commit
        db.session.rollback()
        assert not core_live.pending(db.session())
        assert bus.last_id(channel) == start
        live.sessions_changed(tenants.a.client.id)
        db.session.commit()
        event = reader.get(timeout=30)
        assert event.data["kind"] == LiveKind.SESSIONS and event.id == start + 1


# --- what each reader receives ---------------------------------------------------------------


PHONE = "+5511987654321"


def _event(assigned: int | None, team: int | None, *, before=None) -> dict:
    data = {
        "kind": LiveKind.MESSAGE,
        "conversation": {"id": 9, "assigned_account_id": assigned, "team_id": team, "phone": PHONE},
        "message": {"id": 1, "direction": "in", "preview": "oi"},
    }
    if before is not None:
        data["before"] = before
    return data


@pytest.mark.parametrize(
    ("level", "teams", "expected"),
    [
        (1, (), {"mine"}),
        (2, (), {"mine", "queue"}),
        (3, (4,), {"mine", "queue", "team"}),
        (3, (), {"mine", "queue"}),
        (5, (), {"mine", "queue", "team", "other"}),
    ],
)
def test_each_event_reaches_only_who_may_see_its_conversation(level, teams, expected):
    reader = Reader(id=1, client_id=1, chat_level=level, team_ids=frozenset(teams), view_phones=True)
    cases = {
        "mine": _event(1, None),
        "queue": _event(None, None),
        "team": _event(2, 4),
        "other": _event(2, None),
    }
    assert {name for name, data in cases.items() if shown(reader, data) is not None} == expected


def test_the_number_is_masked_without_view_phones_and_the_sessions_counter_reaches_everyone():
    masked = Reader(id=1, client_id=1, chat_level=6, team_ids=frozenset(), view_phones=False)
    whole = Reader(id=2, client_id=1, chat_level=6, team_ids=frozenset(), view_phones=True)
    assert shown(masked, _event(None, None))["conversation"]["phone"] == "+55 11 ****-**21"
    assert shown(whole, _event(None, None))["conversation"]["phone"] == "+55 11 98765-4321"
    low = Reader(id=3, client_id=1, chat_level=1, team_ids=frozenset(), view_phones=False)
    counter = {"kind": LiveKind.SESSIONS, "remaining": 4}
    assert shown(low, counter) == counter


def test_a_reader_that_saw_a_transferred_conversation_is_told_to_drop_it_and_nothing_more():
    reader = Reader(id=1, client_id=1, chat_level=1, team_ids=frozenset(), view_phones=True)
    away = _event(2, None, before={"assigned_account_id": 1, "team_id": None})
    assert shown(reader, away) == {
        "kind": LiveKind.CONVERSATION,
        "change": LiveChange.HIDDEN,
        "conversation": {"id": 9},
    }
    never_saw = _event(2, None, before={"assigned_account_id": 3, "team_id": None})
    assert shown(reader, never_saw) is None


# --- the stream --------------------------------------------------------------------------------


def test_the_stream_sends_each_user_what_its_chat_level_and_phones_permission_allow(app, tenants, ws):
    client_id, key, secret, http = ws
    low = make_user(app, tenants, level=1, view_phones=False, email="baixo@alpha.test")
    high = make_user(app, tenants, level=6, view_phones=False, email="alto@alpha.test")
    ids = seed_conversations(app, client_id, mine=low.account_id)
    start = get_bus(app).last_id(live.channel(client_id))
    # A contact writes in the low user's conversation, then a new contact writes (the queue).
    with app.app_context():
        mine = db.session.get(Conversation, ids["mine"])
        phone = mine.contact.phone
    deliver(http, key, secret, {"from": phone, "text": "<b>oi</b> de novo", "id": "m1"})
    deliver(http, key, secret, {"from": "11900000009", "text": "Novo contato", "id": "q1"})
    seen_low = [d for d in replay(low, start) if d["kind"] == LiveKind.MESSAGE]
    seen_high = [d for d in replay(high, start) if d["kind"] == LiveKind.MESSAGE]
    assert [d["conversation"]["id"] for d in seen_low] == [ids["mine"]]
    assert len(seen_high) == 2 and seen_high[1]["change"] == LiveChange.NEW
    assert seen_low[0]["message"]["preview"] == "<b>oi</b> de novo"  # text: the page escapes it
    assert all("****" in d["conversation"]["phone"] for d in seen_low + seen_high)
    sessions = [d for d in replay(high, start) if d["kind"] == LiveKind.SESSIONS]
    assert [d["remaining"] for d in sessions] == [9, 8]  # each contact's new window took one


def test_staff_logged_in_as_a_user_receive_exactly_the_users_events(app, factory, tenants, ws, make_browser):
    client_id, key, secret, http = ws
    user = make_user(app, tenants, level=1, view_phones=False, email="nivel1@alpha.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    staff = make_browser()
    staff.login("sup@a.test")
    started = staff.post(f"/reseller/clients/{client_id}/users/{user.account_id}/login-as")
    assert started.headers["Location"] == "/app/"
    ids = seed_conversations(app, client_id, mine=user.account_id)
    start = get_bus(app).last_id(live.channel(client_id))
    with app.app_context():
        phone = db.session.get(Conversation, ids["mine"]).contact.phone
    deliver(http, key, secret, {"from": "11900000009", "text": "fila", "id": "q1"})
    deliver(http, key, secret, {"from": phone, "text": "minha", "id": "m1"})
    as_user, as_staff = replay(user, start), replay(staff, start)
    assert as_staff == as_user
    assert [d["conversation"]["id"] for d in as_user if d["kind"] == LiveKind.MESSAGE] == [ids["mine"]]


def test_the_stream_of_a_deactivated_user_closes_at_once(app, tenants, ws):
    client_id, _key, _secret, _http = ws
    user = make_user(app, tenants, level=6, email="sai@alpha.test")
    app.config["LIVE_STREAM_SECONDS"] = 3600
    try:
        response = user.get("/app/stream", buffered=False)
        chunks = iter(response.response)
        first = next(chunks)
        assert b'"kind":"hello"' in (first if isinstance(first, bytes) else first.encode())
        with app.app_context():
            account = db.session.get(Account, user.account_id)
            owner = db.session.scalar(
                select(Account).where(Account.reseller_id == tenants.a.id, Account.client_id.is_(None))
            )
            assert deactivate_client_user(account, actor=owner) >= 1
            db.session.commit()
        rest = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        assert [d["kind"] for _id, d in frames(rest.decode())] == [LiveKind.END]
        response.close()
    finally:
        app.config["LIVE_STREAM_SECONDS"] = 0
    assert user.get("/app/stream").status_code in (302, 401)


def test_a_reader_that_missed_too_much_is_told_to_reload(app, tenants, ws):
    user = make_user(app, tenants, level=6, email="volta@alpha.test")
    body = user.get("/app/stream", headers={"Last-Event-ID": "999999"}).get_data(as_text=True)
    assert [d["kind"] for _id, d in frames(body)] == [LiveKind.HELLO, LiveKind.RESET]


def test_the_stream_needs_a_workspace_session(app, tenants, make_browser):
    assert make_browser().get("/app/stream").status_code == 302
    staff = make_browser()
    staff.login("owner@a.test")
    assert staff.get("/app/stream").status_code == 302  # staff are sent to their panel


def test_a_lower_chat_level_applies_to_the_open_stream_before_its_next_event(app, tenants, ws):
    client_id, key, secret, http = ws
    user = make_user(app, tenants, level=6, email="rebaixado@alpha.test")
    ids = seed_conversations(app, client_id, mine=user.account_id)
    with app.app_context():
        phone = db.session.get(Conversation, ids["mine"]).contact.phone
    app.config["LIVE_STREAM_SECONDS"] = 3600
    try:
        response = user.get("/app/stream", buffered=False)
        chunks = iter(response.response)
        next(chunks)  # subscribed
        with app.app_context():
            account = db.session.get(Account, user.account_id)
            owner = db.session.scalar(
                select(Account).where(Account.reseller_id == tenants.a.id, Account.client_id.is_(None))
            )
            update_client_user(account, actor=owner, name=account.name, chat_level=1, view_phones=True)
            db.session.commit()
        deliver(http, key, secret, {"from": "11900000009", "text": "fila", "id": "q1"})
        deliver(http, key, secret, {"from": phone, "text": "minha", "id": "m1"})
        received = []
        while not received:
            chunk = next(chunks)
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            received = [d for _id, d in frames(text) if d["kind"] == LiveKind.MESSAGE]
        assert received[0]["conversation"]["id"] == ids["mine"]
        response.close()
    finally:
        app.config["LIVE_STREAM_SECONDS"] = 0


def test_the_stream_never_carries_another_clients_or_resellers_events(
    app, factory, tenants, ws, make_browser
):
    """The route sweep's rule for the stream (it takes no id): a user of the neighbour
    client of the same reseller, and one of reseller B, replaying their streams from the
    start receive nothing of client A."""
    _client_id, key, secret, http = ws
    deliver(http, key, secret, {"from": "11900000001", "text": "só da A", "id": "1"})
    plan_id = tenants.a.plan.id
    neighbour = factory.client(tenants.a.id, trade_name="Vizinha", plan_id=plan_id, payment_status="paid")
    factory.user(neighbour.id, email="gente@vizinha.test")
    factory.user(tenants.b.client.id, email="gente@beta.test")
    for host, email in (("a.test", "gente@vizinha.test"), ("b.test", "gente@beta.test")):
        browser = make_browser(host)
        browser.login(email)
        assert replay(browser, 0) == []
    same_client = make_user(app, tenants, level=6, email="mesma@alpha.test")
    assert LiveKind.MESSAGE in {d["kind"] for d in replay(same_client, 0)}  # the replay works


def test_a_delivery_status_reaches_the_pages_through_the_inbox_hook(app, tenants, ws, ctx):
    client_id, key, secret, http = ws
    sent = deliver(http, key, secret, {"from": "11900000001", "text": "oi", "id": "1"}).json
    message = db.session.get(Message, sent["message_id"])
    inbox.set_delivery_status(message, "delivered")
    db.session.commit()
    event = get_bus(app).backlog(live.channel(client_id))[-1]
    assert event.data["kind"] == LiveKind.DELIVERY
    assert event.data["message"]["id"] == message.id and event.data["message"]["status"] == "delivered"
    reader = Reader(id=0, client_id=client_id, chat_level=2, team_ids=frozenset(), view_phones=False)
    assert shown(reader, event.data)["conversation"]["id"] == sent["conversation_id"]

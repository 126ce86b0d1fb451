"""The workspace inbox: signed inbound messages, 24-hour windows consuming sessions,
chat levels, phone masking, teams, client scoping, writes audited under log in as."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, func, select

from auth import permissions as perm
from auth.models import Account
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant import inbox, windows
from tenant.directory import ensure_channel
from tenant.inbox_models import Contact, Conversation, Message, SessionWindow, Team, TeamMember
from tenant.models import Client
from tests.conftest import Browser
from tests.factories import Factory


def channel(app, client_id: int) -> tuple[str, str]:
    with app.app_context():
        client = db.session.get(Client, client_id)
        ensure_channel(client)
        db.session.commit()
        return client.channel_key, client.channel_secret


def deliver(browser, key: str, secret: str, payload: dict, *, signature: str | None = None):
    body = json.dumps(payload).encode()
    return browser.http.post(
        browser.url(f"/inbound/{key}"),
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": signature if signature is not None else inbox.channel_signature(secret, body),
        },
    )


def set_client(app, client_id: int, **values) -> None:
    with app.app_context():
        client = db.session.get(Client, client_id)
        for key, value in values.items():
            setattr(client, key, value)
        db.session.commit()


def counters(app, client_id: int) -> tuple[int, int, int]:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.refresh(client)
        return client.sessions_consumed, client.extra_balance, client.sessions_remaining


def set_user(app, account_id: int, **values) -> None:
    with app.app_context():
        account = db.session.get(Account, account_id)
        for key, value in values.items():
            setattr(account, key, value)
        db.session.commit()


@pytest.fixture
def ws(app, factory, tenants, make_browser):
    """Client A with 10 plan sessions and a signed channel."""
    set_client(app, tenants.a.client.id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    key, secret = channel(app, tenants.a.client.id)
    return tenants.a.client.id, key, secret, make_browser()


# --- inbound and windows ------------------------------------------------------------


def test_a_signed_inbound_message_opens_a_window_and_consumes_one_session(app, ws):
    client_id, key, secret, http = ws
    first = deliver(http, key, secret, {"from": "(11) 98765-4321", "name": "Joana", "text": "Oi", "id": "m1"})
    assert first.status_code == 201 and first.json["window"] is True
    assert counters(app, client_id)[0] == 1
    again = deliver(http, key, secret, {"from": "11987654321", "text": "Oi", "id": "m1"})
    assert again.status_code == 200 and again.json["duplicate"] is True
    inside = deliver(http, key, secret, {"from": "11987654321", "text": "Tudo bem?", "id": "m2"})
    assert inside.status_code == 201
    assert counters(app, client_id)[0] == 1  # inside the window: nothing consumed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 2
        contact = db.session.scalar(select(Contact))
        assert contact.phone == "+5511987654321" and contact.name == "Joana"
        assert db.session.scalar(select(func.count()).select_from(SessionWindow)) == 1


def test_bad_or_missing_signature_is_401_and_stores_nothing(app, ws, tenants):
    client_id, key, secret, http = ws
    payload = {"from": "11987654321", "text": "Oi", "id": "x1"}
    assert deliver(http, key, secret, payload, signature="sha256=" + "0" * 64).status_code == 401
    assert deliver(http, key, secret, payload, signature="").status_code == 401
    other_key, other_secret = channel(app, tenants.b.client.id)
    # B's key on A's host: unknown here.
    assert deliver(http, other_key, other_secret, payload).status_code == 401
    assert deliver(http, key, secret, {"from": "abc", "text": "", "id": ""}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert counters(app, client_id)[0] == 0


def test_window_lasts_24_hours_after_the_latest_message(app, ws):
    client_id, key, secret, http = ws
    with time_machine.travel(utcnow(), tick=False) as clock:
        deliver(http, key, secret, {"from": "11987654321", "text": "1", "id": "a"})
        clock.shift(timedelta(hours=23))
        deliver(http, key, secret, {"from": "11987654321", "text": "2", "id": "b"})
        clock.shift(timedelta(hours=23))
        deliver(http, key, secret, {"from": "11987654321", "text": "3", "id": "c"})
        assert counters(app, client_id)[0] == 1
        clock.shift(timedelta(hours=24, seconds=1))
        deliver(http, key, secret, {"from": "11987654321", "text": "4", "id": "d"})
        assert counters(app, client_id)[0] == 2


def test_plan_sessions_first_then_extras_then_refused(app, ws):
    client_id, key, secret, http = ws
    set_client(app, client_id, sessions_quota=1, sessions_consumed=0, extra_balance=1)
    assert deliver(http, key, secret, {"from": "11900000001", "text": "a", "id": "1"}).json["window"]
    assert counters(app, client_id) == (1, 1, 1)
    assert deliver(http, key, secret, {"from": "11900000002", "text": "b", "id": "2"}).json["window"]
    assert counters(app, client_id) == (1, 0, 0)
    third = deliver(http, key, secret, {"from": "11900000003", "text": "c", "id": "3"})
    assert (
        third.status_code == 201 and third.json["window"] is False and third.json["refused"] == "no_sessions"
    )
    assert counters(app, client_id) == (1, 0, 0)
    with app.app_context():
        sources = db.session.scalars(select(SessionWindow.source).order_by(SessionWindow.id)).all()
        assert sources == ["plan", "extra"]
        # The contact's message is kept even though no window opened.
        assert db.session.scalar(select(func.count()).select_from(Message)) == 3


def test_a_suspended_client_opens_no_window_but_open_ones_continue(app, ws):
    client_id, key, secret, http = ws
    deliver(http, key, secret, {"from": "11900000001", "text": "a", "id": "1"})
    set_client(app, client_id, suspended=True, suspension_reason="Pagamento em atraso")
    refused = deliver(http, key, secret, {"from": "11900000002", "text": "b", "id": "2"})
    assert refused.json["refused"] == "suspended"
    assert deliver(http, key, secret, {"from": "11900000001", "text": "c", "id": "3"}).json["window"] is True
    assert counters(app, client_id)[0] == 1


def test_reply_inside_the_window_and_template_outside_it(app, tenants, ws):
    client_id, key, secret, http = ws
    user = make_user(app, tenants)
    with time_machine.travel(utcnow(), tick=False) as clock:
        conversation_id = deliver(http, key, secret, {"from": "11900000001", "text": "a", "id": "1"}).json[
            "conversation_id"
        ]
        assert (
            user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Olá!"}).status_code == 303
        )
        clock.shift(timedelta(hours=25))
        refused = user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Ainda aí?"})
        assert refused.status_code == 303
        page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
        assert "janela de 24 horas" in page
        assert counters(app, client_id)[0] == 1
        template = user.post(
            f"/app/conversations/{conversation_id}/messages", {"body": "Podemos continuar?", "template": "1"}
        )
        assert template.status_code == 303
        assert counters(app, client_id)[0] == 2
    with app.app_context():
        bodies = db.session.scalars(select(Message.body).order_by(Message.id)).all()
        assert bodies == ["a", "Olá!", "Podemos continuar?"]


@pytest.mark.real_commits
def test_200_concurrent_window_openings_with_50_sessions_left_exactly_50_succeed(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency is checked on PostgreSQL")

    with app.test_request_context("/", base_url="http://conc-ws.test"):
        reseller, _login = create_reseller(
            name="Concorrência WS",
            host="conc-ws.test",
            owner_email="dono@conc-ws.test",
            require_staff_2fa=False,
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Concorrente",
            legal_name="Concorrente Ltda",
            email="contato@concorrente.test",
            document_type="cnpj",
            document=make_cnpj(1),
            status="active",
            sessions_quota=40,
            sessions_consumed=0,
            extra_balance=10,
        )
        db.session.add(client)
        db.session.flush()
        contacts = [
            Contact(reseller_id=reseller.id, client_id=client.id, name=f"C{i}", phone=f"55119{i:08d}")
            for i in range(200)
        ]
        db.session.add_all(contacts)
        db.session.commit()
        reseller_id, client_id = reseller.id, client.id
        contact_ids = [c.id for c in contacts]
    results: list[str] = []
    lock = threading.Lock()

    def open_one(contact_id: int) -> None:
        with app.app_context():
            try:
                contact = db.session.get(Contact, contact_id)
                window = windows.touch_window(contact, None, may_open=True)
                db.session.commit()
                outcome = window.source
            except windows.WindowRefused as refused:
                db.session.rollback()
                outcome = refused.reason
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            list(pool.map(open_one, contact_ids))
        assert results.count("plan") == 40 and results.count("extra") == 10
        assert results.count("no_sessions") == 150
        with app.app_context():
            client = db.session.get(Client, client_id)
            assert (client.sessions_consumed, client.extra_balance, client.sessions_remaining) == (40, 0, 0)
            assert (
                db.session.scalar(
                    select(func.count())
                    .select_from(SessionWindow)
                    .where(SessionWindow.client_id == client_id)
                )
                == 50
            )
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


# --- chat levels and masking --------------------------------------------------------


def make_user(app, tenants, *, level: int = 6, view_phones: bool = True, email: str | None = None):
    factory = Factory(app, password="correct horse battery staple 42")
    created = factory.user(tenants.a.client.id, email=email or f"u{level}{int(view_phones)}@alpha.test")
    set_user(app, created.id, chat_level=level, view_phones=view_phones)
    browser = Browser(app)
    browser.login(created.email)
    browser.account_id = created.id
    return browser


def seed_conversations(app, client_id: int, *, mine: int, team_member: int | None = None):
    """Four conversations: assigned to ``mine``, unassigned, on a team, someone else's."""
    with app.app_context():
        client = db.session.get(Client, client_id)
        other = db.session.scalar(
            select(Account.id).where(Account.client_id == client_id, Account.id != mine)
        )
        team = Team(reseller_id=client.reseller_id, client_id=client_id, name="Vendas")
        db.session.add(team)
        db.session.flush()
        if team_member:
            db.session.add(
                TeamMember(
                    reseller_id=client.reseller_id,
                    client_id=client_id,
                    team_id=team.id,
                    account_id=team_member,
                )
            )
        ids = {}
        for label, assigned, team_id in (
            ("mine", mine, None),
            ("queue", None, None),
            ("team", other, team.id),
            ("other", other, None),
        ):
            contact = Contact(
                reseller_id=client.reseller_id,
                client_id=client_id,
                name=f"Contato {label}",
                phone=f"551198765{len(ids):04d}",
            )
            db.session.add(contact)
            db.session.flush()
            conv = Conversation(
                reseller_id=client.reseller_id,
                client_id=client_id,
                contact_id=contact.id,
                assigned_account_id=assigned,
                team_id=team_id,
            )
            db.session.add(conv)
            db.session.flush()
            ids[label] = conv.id
        db.session.commit()
        return ids


EXPECTED_VISIBLE = {
    1: {"mine"},
    2: {"mine", "queue"},
    3: {"mine", "queue", "team"},
    4: {"mine", "queue", "team"},
    5: {"mine", "queue", "team", "other"},
    6: {"mine", "queue", "team", "other"},
}


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5, 6])
def test_chat_levels_decide_what_a_user_sees_and_does(app, tenants, level):
    user = make_user(app, tenants, level=level)
    ids = seed_conversations(app, tenants.a.client.id, mine=user.account_id, team_member=user.account_id)
    for label, conversation_id in ids.items():
        status = user.get(f"/app/conversations/{conversation_id}").status_code
        assert (status == 200) == (label in EXPECTED_VISIBLE[level]), (label, status)
        assert status in (200, 404)
    listed = user.get("/app/?view=all" if level >= 5 else "/app/?view=mine").status_code
    assert listed == 200
    take = user.post(f"/app/conversations/{ids['queue']}/take")
    assert take.status_code == (303 if level >= 2 else 404)
    assign = user.post(f"/app/conversations/{ids['mine']}/assign", {"account_id": user.account_id})
    assert assign.status_code == (303 if level >= 4 else 403)
    if level >= 5:
        close_other = user.post(f"/app/conversations/{ids['other']}/close")
        assert close_other.status_code == (303 if level == 6 else 403)
    assert user.post(f"/app/conversations/{ids['mine']}/close").status_code == 303
    assert user.get("/app/teams").status_code == (200 if level == 6 else 403)


# What each tab lists before the chat level narrows it (``seed_conversations``' labels).
TAB_LISTS = {
    "mine": {"mine"},
    "queue": {"queue"},
    "team": {"team"},
    "all": {"mine", "queue", "team", "other"},
}


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5, 6])
def test_each_tab_lists_what_the_chat_level_sees_and_nothing_else(app, tenants, level):
    user = make_user(app, tenants, level=level)
    ids = seed_conversations(app, tenants.a.client.id, mine=user.account_id, team_member=user.account_id)
    label_of = {str(conversation_id): label for label, conversation_id in ids.items()}
    for view, listed in TAB_LISTS.items():
        page = user.get(f"/app/?view={view}").get_data(as_text=True)
        shown = {label_of[i] for i in re.findall(r'data-conversation-id="(\d+)"', page)}
        assert shown == listed & EXPECTED_VISIBLE[level], (view, shown)


def test_without_view_phones_numbers_are_masked_everywhere(app, tenants):
    masked = make_user(app, tenants, level=6, view_phones=False, email="mask@alpha.test")
    ids = seed_conversations(app, tenants.a.client.id, mine=masked.account_id)
    pages = [
        masked.get("/app/?view=all").get_data(as_text=True),
        masked.get(f"/app/conversations/{ids['mine']}").get_data(as_text=True),
        masked.get("/app/contacts").get_data(as_text=True),
    ]
    for page in pages:
        assert "+55 11 ****-**" in page
        assert "98765" not in page
    # Searching by digits does not reveal numbers either.
    search = masked.get("/app/contacts?q=987650000").get_data(as_text=True)
    assert "data-contact-id" not in search
    seer = make_user(app, tenants, level=6, view_phones=True, email="seer@alpha.test")
    assert "+55 11 98765-0000" in seer.get("/app/contacts").get_data(as_text=True)
    assert "data-contact-id" in seer.get("/app/contacts?q=987650000").get_data(as_text=True)


def test_another_clients_conversation_or_contact_is_404(app, factory, tenants):
    user = make_user(app, tenants)
    other_client = factory.client(tenants.a.id, trade_name="Vizinho", plan_id=tenants.a.plan.id)
    other_user = factory.user(other_client.id, email="vizinho@x.test")
    ids = seed_conversations(app, other_client.id, mine=other_user.id)
    with app.app_context():
        contact_id = db.session.scalar(select(Conversation.contact_id).where(Conversation.id == ids["mine"]))
    for path in (f"/app/conversations/{ids['mine']}",):
        assert user.get(path).status_code == 404
    for path in (
        f"/app/conversations/{ids['mine']}/messages",
        f"/app/conversations/{ids['queue']}/take",
        f"/app/conversations/{ids['mine']}/assign",
        f"/app/conversations/{ids['mine']}/close",
        f"/app/conversations/{ids['mine']}/reopen",
        f"/app/contacts/{contact_id}/start",
    ):
        assert user.post(path, {"body": "x", "account_id": user.account_id}).status_code == 404, path
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_contacts_create_validates_and_start_conversation_uses_a_session(app, tenants, ws):
    client_id, _key, _secret, _http = ws
    user = make_user(app, tenants)
    bad = user.post("/app/contacts", {"name": "", "phone": "123"})
    assert bad.status_code == 422
    assert user.post("/app/contacts", {"name": "Maria", "phone": "(21) 99876-5432"}).status_code == 303
    duplicate = user.post("/app/contacts", {"name": "Maria 2", "phone": "21998765432"})
    assert duplicate.status_code == 422
    with app.app_context():
        contact_id = db.session.scalar(select(Contact.id))
    started = user.post(f"/app/contacts/{contact_id}/start")
    assert started.status_code == 303
    assert counters(app, client_id)[0] == 1


def test_teams_page_creates_teams_and_sets_members(app, tenants):
    manager = make_user(app, tenants, level=6)
    assert manager.post("/app/teams", {"name": "Suporte"}).status_code == 303
    with app.app_context():
        team_id = db.session.scalar(select(Team.id).where(Team.name == "Suporte"))
    assert (
        manager.post(f"/app/teams/{team_id}/members", {"account_id": manager.account_id}).status_code == 303
    )
    with app.app_context():
        assert db.session.scalar(select(TeamMember.account_id).where(TeamMember.team_id == team_id)) == (
            manager.account_id
        )


def test_header_shows_plan_and_sessions_and_the_suspension_banner(app, tenants, ws):
    client_id, *_ = ws
    user = make_user(app, tenants)
    page = user.get("/app/").get_data(as_text=True)
    assert "Plano A" in page and 'id="workspace-meter"' in page
    assert 'id="suspended-banner"' not in page
    set_client(app, client_id, suspended=True, suspension_reason="Pagamento em atraso")
    page = user.get("/app/").get_data(as_text=True)
    assert 'id="suspended-banner"' in page and "Pagamento em atraso" in page


def test_writes_while_logged_in_as_are_audited_with_actor_and_user(app, factory, tenants, ws, make_browser):
    _client_id, key, secret, http = ws
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    user = factory.user(tenants.a.client.id, email="atende@alpha.test")
    conversation_id = deliver(http, key, secret, {"from": "11900000001", "text": "a", "id": "1"}).json[
        "conversation_id"
    ]
    browser = make_browser()
    browser.login("sup@a.test")
    browser.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/login-as")
    assert browser.post(f"/app/conversations/{conversation_id}/messages", {"body": "Oi!"}).status_code == 303
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.message_sent"))
        assert event.actor_account_id == staff.id and event.subject_account_id == user.id
        message = db.session.scalar(select(Message).where(Message.body == "Oi!"))
        assert message.author_account_id == user.id and message.actor_account_id == staff.id


def test_level_6_turns_on_the_channel_and_rotates_its_secret(app, tenants):
    manager = make_user(app, tenants, level=6, email="canal@alpha.test")
    page = manager.get("/app/teams").get_data(as_text=True)
    assert 'id="channel"' in page and "/inbound/" not in page
    assert manager.post("/app/channel").status_code == 303
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        key, first_secret = client.channel_key, client.channel_secret
    page = manager.get("/app/teams").get_data(as_text=True)
    assert f"/inbound/{key}" in page and first_secret in page
    manager.post("/app/channel")
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        assert client.channel_key == key and client.channel_secret != first_secret
    body = b'{"from": "11987654321", "text": "Oi", "id": "x"}'
    old = manager.http.post(
        f"http://a.test/inbound/{key}",
        data=body,
        headers={"X-Signature": inbox.channel_signature(first_secret, body)},
    )
    assert old.status_code == 401
    lower = make_user(app, tenants, level=5, email="nivel5@alpha.test")
    assert lower.post("/app/channel").status_code == 403

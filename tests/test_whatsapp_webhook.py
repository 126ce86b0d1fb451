"""Meta's webhook (``/webhooks/whatsapp``): the subscription check, the signature checked
with the named channel's app secret before anything is stored, the raw event stored
before the 200 and applied by a job: every message type, replies, reactions, statuses
(out of order too), duplicates, the window and session a contact's message opens."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenant.inbox_models import Contact, Conversation, Message, SessionWindow
from tenant.models import Client
from tenant.states import DeliveryStatus, MessageDirection
from tests.whatsapp_setup import CONTACT, VERIFY_TOKEN, connect, deliver, payload, sign
from whatsapp import disconnecting, inbox
from whatsapp.models import WhatsAppChannel, WhatsAppEvent


@pytest.fixture
def channel_a(app, tenants):
    connect(app, tenants.a.client.id)
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        client.sessions_quota, client.sessions_consumed, client.extra_balance = 10, 0, 0
        db.session.commit()
    return tenants.a.client.id


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def messages(app, client_id: int) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.client_id == client_id).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return rows


# --- the subscription check ---------------------------------------------------------


def test_the_challenge_is_echoed_for_a_channels_verify_token(app, channel_a, make_browser):
    http = make_browser().http
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answer = http.get("http://any-host.test/webhooks/whatsapp", query_string=query)
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "not-the-token", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ],
)
def test_a_wrong_token_or_mode_is_403(app, channel_a, make_browser, query):
    answer = make_browser().http.get("http://a.test/webhooks/whatsapp", query_string=query)
    assert answer.status_code == 403 and answer.get_data(as_text=True) != "1"


# --- the signature ------------------------------------------------------------------


def test_a_signed_delivery_is_stored_before_the_200_and_applied_by_a_job(
    app, channel_a, make_browser, run_jobs
):
    answer = deliver(make_browser(), payload("text"))
    assert answer.status_code == 200
    with app.app_context():
        assert count(WhatsAppEvent) == 1
    run_jobs()
    with app.app_context():
        event = db.session.scalar(select(WhatsAppEvent))
        assert event.processed_at is not None and event.outcome == "applied"
        message = db.session.scalar(select(Message))
        assert message.body == "Olá, tudo bem?" and message.direction == MessageDirection.INBOUND
        contact = db.session.get(Contact, db.session.get(Conversation, message.conversation_id).contact_id)
        assert contact.phone == "+" + CONTACT and contact.name == "Kerry Fisher"


@pytest.mark.parametrize(
    "case", ["bad", "missing", "other channel's secret", "unknown number", "body changed after signing"]
)
def test_a_delivery_without_the_channels_signature_stores_nothing(
    app, tenants, channel_a, make_browser, case
):
    connect(
        app,
        tenants.b.client.id,
        phone_number_id="999000111",
        secret="secret-of-b",
        verify_token="verify-b-123",
    )
    raw = payload("text")
    browser = make_browser()
    if case == "bad":
        answer = deliver(browser, raw, signature="sha256=" + "0" * 64)
    elif case == "missing":
        answer = deliver(browser, raw, signed=False)
    elif case == "other channel's secret":
        answer = deliver(browser, raw, secret="secret-of-b")
    elif case == "unknown number":
        answer = deliver(browser, payload("text", PHONE_NUMBER_ID="123123123"))
    else:
        answer = deliver(browser, raw + b" ", signature=sign(raw))
    # A number without a channel here has no secret to check a signature with: 404.
    assert answer.status_code == (404 if case == "unknown number" else 401)
    with app.app_context():
        assert count(WhatsAppEvent) == 0 and count(Message) == 0


def test_a_new_secret_or_a_disconnection_takes_effect_at_the_next_delivery(app, channel_a, make_browser):
    # The unsealed secret is kept by its sealed value, never by the phone number id: a
    # delivery accepted first (the secret now known to this process) keeps nothing alive.
    browser = make_browser()
    assert deliver(browser, payload("text", WAMID="wamid.first")).status_code == 200
    connect(app, channel_a, secret="the-new-secret")
    assert deliver(browser, payload("text", WAMID="wamid.old")).status_code == 401
    assert deliver(browser, payload("text", WAMID="wamid.new"), secret="the-new-secret").status_code == 200
    with app.test_request_context(), app.app_context():
        disconnecting.disconnect(db.session.scalar(select(WhatsAppChannel)))
        db.session.commit()
    assert deliver(browser, payload("text", WAMID="wamid.after"), secret="the-new-secret").status_code == 404
    with app.app_context():
        assert count(WhatsAppEvent) == 2


def test_not_json_is_400_and_stores_nothing(app, channel_a, make_browser):
    assert deliver(make_browser(), b"not json").status_code == 400
    with app.app_context():
        assert count(WhatsAppEvent) == 0


# --- messages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "body"),
    [
        ("text", "text", "Olá, tudo bem?"),
        ("image", "image", "Foto do produto"),
        ("audio", "audio", ""),
        ("video", "video", "Vídeo"),
        ("document", "document", "Nota fiscal"),
        ("location", "location", "Meta Headquarters — 1 Hacker Way, Menlo Park, CA 94025"),
        ("contacts", "contacts", "Barbara J. Johnson: +1 (940) 555-1234"),
    ],
)
def test_every_message_type_is_stored_with_its_kind(
    app, channel_a, make_browser, run_jobs, fake_meta, fixture, kind, body
):
    fake_meta.media["1037543291543636"] = ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert deliver(make_browser(), payload(fixture, TIMESTAMP="1700000000")).status_code == 200
    run_jobs()
    [message] = messages(app, channel_a)
    assert (message.kind, message.body) == (kind, body)
    assert message.created_at.isoformat() == "2023-11-14T22:13:20"  # Meta's timestamp, not ours
    if fixture in ("image", "audio", "video", "document"):
        assert message.media_id == "1037543291543636"
    if fixture == "location":
        assert (message.latitude, message.longitude) == (37.483307, -122.148981)


def test_a_reply_names_the_message_it_answers(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text", WAMID="wamid.first"))
    deliver(browser, payload("reply", WAMID="wamid.second", TARGET="wamid.first"))
    run_jobs()
    first, second = messages(app, channel_a)
    assert second.reply_to_external_id == "wamid.first" and first.reply_to_external_id is None


def test_a_reaction_is_set_on_its_message_and_taken_back(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text", WAMID="wamid.liked"))
    deliver(browser, payload("reaction", WAMID="wamid.reaction1", TARGET="wamid.liked"))
    run_jobs()
    [message] = messages(app, channel_a)
    assert message.reaction == "👍"
    deliver(
        browser,
        payload("reaction", WAMID="wamid.reaction2", TARGET="wamid.liked").replace("👍".encode(), b""),
    )
    run_jobs()
    assert messages(app, channel_a)[0].reaction is None


def test_a_reaction_before_its_message_is_applied_once_the_message_is_there(
    app, channel_a, make_browser, run_jobs
):
    browser = make_browser()
    deliver(browser, payload("reaction", WAMID="wamid.early-reaction", TARGET="wamid.late"))
    run_jobs()
    with app.app_context():
        early = db.session.scalar(select(WhatsAppEvent))
        assert early.processed_at is None and early.attempts == 1 and "wamid.late" in early.last_error
    deliver(browser, payload("text", WAMID="wamid.late"))
    run_jobs()
    with app.app_context():
        assert inbox.sweep(older_than=timedelta(0)) == 1
    [message] = messages(app, channel_a)
    assert message.reaction == "👍"


def test_the_same_message_twice_is_stored_once_and_consumes_one_session(
    app, channel_a, make_browser, run_jobs
):
    browser = make_browser()
    raw = payload("text")
    assert deliver(browser, raw).status_code == 200
    assert deliver(browser, raw).status_code == 200
    run_jobs()
    with app.app_context():
        assert count(Message) == 1 and count(WhatsAppEvent) == 2
        assert count(SessionWindow) == 1
        assert db.session.get(Client, channel_a).sessions_consumed == 1


def test_a_second_message_inside_the_window_consumes_nothing_more(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text", WAMID="wamid.1"))
    deliver(browser, payload("location", WAMID="wamid.2"))
    run_jobs()
    with app.app_context():
        assert db.session.get(Client, channel_a).sessions_consumed == 1


# --- statuses of our messages -------------------------------------------------------


def outbound(app, client_id: int, wamid: str = "wamid.ours") -> int:
    """One of our messages, already sent (its WhatsApp id known)."""
    with app.app_context():
        inbound = db.session.scalar(select(Message).where(Message.client_id == client_id))
        message = Message(
            reseller_id=inbound.reseller_id,
            client_id=client_id,
            conversation_id=inbound.conversation_id,
            direction=MessageDirection.OUTBOUND,
            body="Resposta",
            external_id=wamid,
            delivery_status=DeliveryStatus.SENT,
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def status_of(app, message_id: int) -> tuple:
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.delivery_status, message.delivery_error


def test_every_status_is_shown_on_our_message(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text"))
    run_jobs()
    ours = outbound(app, channel_a)
    start = int(time.time())
    for offset, name in enumerate(("status_sent", "status_delivered", "status_read")):
        deliver(browser, payload(name, WAMID="wamid.ours", TIMESTAMP=str(start + offset)))
        run_jobs()
        assert status_of(app, ours)[0] == name.removeprefix("status_")


def test_a_failed_status_keeps_metas_reason(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text"))
    run_jobs()
    ours = outbound(app, channel_a)
    deliver(browser, payload("status_failed", WAMID="wamid.ours"))
    run_jobs()
    assert status_of(app, ours) == ("failed", "Re-engagement message (131047)")


def test_an_older_status_arriving_late_does_not_overwrite_a_newer_one(app, channel_a, make_browser, run_jobs):
    browser = make_browser()
    deliver(browser, payload("text"))
    run_jobs()
    ours = outbound(app, channel_a)
    deliver(browser, payload("status_read", WAMID="wamid.ours", TIMESTAMP="1700000300"))
    deliver(browser, payload("status_delivered", WAMID="wamid.ours", TIMESTAMP="1700000200"))
    deliver(browser, payload("status_sent", WAMID="wamid.ours", TIMESTAMP="1700000100"))
    run_jobs()
    assert status_of(app, ours)[0] == "read"
    with app.app_context():
        assert db.session.get(Message, ours).delivery_status_at.isoformat() == "2023-11-14T22:18:20"

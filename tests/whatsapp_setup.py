"""What the WhatsApp tests share: a client's channel connected, Meta's webhook payloads
(tests/whatsapp/*.json, shaped like Meta's documented examples) filled in and signed,
and delivered to ``/webhooks/whatsapp``."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from string import Template

from sqlalchemy import select

from core.extensions import db
from tenant.inbox_models import Message
from tenant.models import Client
from tests.meta_fake import TOKEN
from tests.test_workspace import make_user
from whatsapp import channels

FIXTURES = Path(__file__).resolve().parent / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-only-app-secret-a"
VERIFY_TOKEN = "verify-token-of-a"
CONTACT = "5511987654321"  # the contact's wa_id (E.164 digits)


def connect(
    app,
    client_id: int,
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    secret: str = APP_SECRET,
    verify_token: str = VERIFY_TOKEN,
    business_account_id: str = "102290129340398",
) -> None:
    with app.test_request_context(), app.app_context():
        client = db.session.get(Client, client_id)
        channels.save(
            client,
            channels.ChannelInput(
                phone_number_id=phone_number_id,
                business_account_id=business_account_id,
                verify_token=verify_token,
                access_token=TOKEN,
                app_secret=secret,
            ),
        )
        db.session.commit()


def payload(name: str, **values) -> bytes:
    """A fixture with its ``$PLACEHOLDERS`` filled (defaults: channel A, our contact, now)."""
    defaults = {
        "PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WABA_ID": "102290129340398",
        "FROM": CONTACT,
        "WAMID": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFFRkE0QjJDOEI4Q0Q0MTYxMgA=",
        "TIMESTAMP": str(int(time.time())),
        "TARGET": "wamid.target",
        "MEDIA_ID": "1037543291543636",
    }
    text = Template((FIXTURES / f"{name}.json").read_text()).substitute({**defaults, **values})
    return text.encode()


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def deliver(
    browser, raw: bytes, *, secret: str = APP_SECRET, signature: str | None = None, signed: bool = True
):
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = signature if signature is not None else sign(raw, secret)
    return browser.http.post(browser.url("/webhooks/whatsapp"), data=raw, headers=headers)


def open_chat(app, tenants, make_browser, run_jobs):
    """Client A connected with 10 sessions, a contact's message received (the window is
    open) and a client user who may answer it: ``(user, conversation_id)``. Its fixture
    also asks for ``fake_meta``, which answers the connection's Graph calls."""
    connect(app, tenants.a.client.id)
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        client.sessions_quota, client.sessions_consumed, client.extra_balance = 10, 0, 0
        db.session.commit()
    deliver(make_browser(), payload("text", WAMID="wamid.contact1"))
    run_jobs()
    with app.app_context():
        conversation_id = db.session.scalar(select(Message.conversation_id))
    return make_user(app, tenants), conversation_id

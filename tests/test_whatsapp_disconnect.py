"""Disconnecting a client's WhatsApp channel (``POST /app/settings/whatsapp/disconnect``):
its secrets erased, the webhook refusing the number (404: no secret is left to check a
signature with), the messages waiting to be sent failed with the reason, the history
kept, the audit without secrets; saving the settings again reconnects it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tenant.inbox_models import Conversation, Message
from tenant.models import Client
from tenant.states import DeliveryStatus, MessageDirection
from tests.meta_fake import TOKEN
from tests.test_workspace import make_user
from tests.whatsapp_setup import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, connect, deliver, payload
from whatsapp import tasks
from whatsapp.models import WhatsAppChannel, WhatsAppEvent, WhatsAppSend, WhatsAppTemplate

FORM = {
    "phone_number_id": PHONE_NUMBER_ID,
    "business_account_id": "102290129340398",
    "verify_token": VERIFY_TOKEN,
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
}
REASON = "O canal do WhatsApp foi desconectado antes do envio desta mensagem."  # the pt-BR UI's


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_disconnecting_erases_the_secrets_cancels_waiting_sends_and_keeps_the_history(
    app, tenants, make_browser, fake_meta, run_jobs
):
    client_id = tenants.a.client.id
    connect(app, client_id)
    with app.app_context():
        client = db.session.get(Client, client_id)
        client.sessions_quota, client.sessions_consumed, client.extra_balance = 10, 0, 0
        db.session.add(
            WhatsAppTemplate(
                reseller_id=tenants.a.id, client_id=client_id, name="oi", language="pt_BR", body="Oi"
            )
        )
        db.session.commit()
    assert deliver(make_browser(), payload("text", WAMID="wamid.in1")).status_code == 200
    run_jobs()
    manager = make_user(app, tenants)
    with app.app_context():
        conversation_id = db.session.scalar(select(Conversation.id))
    fake_meta.send_failures = [429]  # the reply waits for its next try
    manager.post(f"/app/conversations/{conversation_id}/messages", {"body": "Já respondo"})
    run_jobs()
    page = manager.get("/app/settings/whatsapp").get_data(as_text=True)
    assert 'action="/app/settings/whatsapp/disconnect"' in page
    assert "Mensagens do WhatsApp deixarão de chegar; o histórico fica." in page  # the confirm

    answer = manager.post("/app/settings/whatsapp/disconnect", follow_redirects=True)
    assert answer.status_code == 200
    assert "Mensagens que aguardavam envio, agora canceladas: 1." in answer.get_data(as_text=True)
    assert count(app, WhatsAppChannel) == 0 and count(app, WhatsAppTemplate) == 0
    with app.app_context():
        reply = db.session.scalar(select(Message).where(Message.direction == MessageDirection.OUTBOUND))
        assert (reply.delivery_status, reply.delivery_error) == (DeliveryStatus.FAILED, REASON)
        assert db.session.scalar(select(WhatsAppSend.next_attempt_at)) is None
        assert count(app, Message) == 2 and count(app, Conversation) == 1  # the history stays
        action = AuditEvent.action == "whatsapp.channel_disconnected"
        event = db.session.scalar(select(AuditEvent).where(action))
        assert event.details["before"]["phone_number_id"] == PHONE_NUMBER_ID
        assert event.details["sends_cancelled"] == 1
        written = repr(event.details)
    assert TOKEN not in written and APP_SECRET not in written and VERIFY_TOKEN not in written
    # The sweep finds nothing to try: the waiting reply never reaches Meta.
    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False), app.app_context():
        assert tasks.sweep_sends() == 0
    assert len(fake_meta.sends) == 1  # the first try, before the disconnection
    # A delivery signed with the erased secret is refused: no secret checks it now.
    events = count(app, WhatsAppEvent)
    late = deliver(make_browser(), payload("text", WAMID="wamid.in2"))
    assert late.status_code == 404 and count(app, WhatsAppEvent) == events
    verify = make_browser().http.get(
        "http://a.test/webhooks/whatsapp",
        query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )
    assert verify.status_code == 403
    page = manager.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    assert REASON in page and "whatsapp-file" not in page

    # Reconnecting is saving the settings again.
    assert manager.post("/app/settings/whatsapp", FORM).status_code == 303
    assert deliver(make_browser(), payload("text", WAMID="wamid.in3")).status_code == 200


def test_only_managers_disconnect_and_only_a_connected_channel(app, tenants):
    connect(app, tenants.a.client.id)
    agent = make_user(app, tenants, level=5)
    assert agent.post("/app/settings/whatsapp/disconnect").status_code == 403
    manager = make_user(app, tenants)
    assert manager.post("/app/settings/whatsapp/disconnect", csrf=False).status_code == 400
    assert count(app, WhatsAppChannel) == 1
    assert manager.post("/app/settings/whatsapp/disconnect").status_code == 303
    assert manager.post("/app/settings/whatsapp/disconnect").status_code == 404


def test_disconnecting_leaves_another_clients_channel_alone(app, tenants):
    connect(app, tenants.b.client.id, phone_number_id="999000111", verify_token="verify-b-123")
    manager = make_user(app, tenants)
    assert manager.post("/app/settings/whatsapp/disconnect").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(WhatsAppChannel.client_id)) == tenants.b.client.id

"""Our messages sent through the client's WhatsApp channel: a job POSTs them to Graph
``/{phone-number-id}/messages`` (text inside the 24-hour window, an approved template
outside it, which opens a window and uses one session), retried with backoff on 429
and 5xx, never sent twice, the failure reason shown on the message."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from tenant.inbox_models import Message
from tenant.models import Client
from tenant.states import DeliveryStatus, MessageDirection
from tests.test_workspace import make_user
from tests.whatsapp_setup import CONTACT, open_chat
from whatsapp import sending, tasks
from whatsapp.models import WhatsAppSend, WhatsAppTemplate
from whatsapp.states import SendOutcome

APPROVED = {
    "name": "retomar_atendimento",
    "language": "pt_BR",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "1234567890",
    "components": [{"type": "BODY", "text": "Olá {{1}}, podemos continuar o atendimento {{2}}?"}],
}


@pytest.fixture
def chat(app, tenants, make_browser, fake_meta, run_jobs):
    return open_chat(app, tenants, make_browser, run_jobs)


def ours(app) -> Message:
    with app.app_context():
        message = db.session.scalar(
            select(Message).where(Message.direction == MessageDirection.OUTBOUND).order_by(Message.id.desc())
        )
        db.session.expunge_all()
        return message


def consumed(app, client_id: int) -> int:
    with app.app_context():
        return db.session.get(Client, client_id).sessions_consumed


def test_a_reply_inside_the_window_is_posted_once_and_marked_sent(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    answer = user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Olá! Como ajudo?"})
    assert answer.status_code == 303
    run_jobs()
    [request] = fake_meta.sends
    assert request["path"].endswith("/106540352242922/messages")
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CONTACT,
        "type": "text",
        "text": {"preview_url": False, "body": "Olá! Como ajudo?"},
    }
    message = ours(app)
    assert message.external_id == "wamid.FAKE0001" and message.delivery_status == DeliveryStatus.SENT
    # The job again (a retry, the sweep): the message has its WhatsApp id, nothing is sent.
    with app.app_context():
        assert sending.send(message.id) == SendOutcome.ALREADY_SENT
        assert tasks.sweep_sends() == 0
    assert len(fake_meta.sends) == 1
    page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    assert 'data-delivery="sent"' in page


@pytest.mark.parametrize("failures", [[429], [500, 503], [429, 500, 429]])
def test_rate_limits_and_server_errors_are_retried_with_backoff_then_sent_once(
    app, chat, fake_meta, run_jobs, failures
):
    user, conversation_id = chat
    fake_meta.send_failures = list(failures)
    with time_machine.travel(utcnow(), tick=False) as clock:
        user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Já verifico"})
        run_jobs()
        message = ours(app)
        assert message.external_id is None and message.delivery_status == DeliveryStatus.QUEUED
        with app.app_context():
            # Not before its time: the next try waits for the backoff.
            assert tasks.sweep_sends() == 0
        for _ in failures:
            clock.shift(timedelta(minutes=6))
            with app.app_context():
                tasks.sweep_sends()
    assert len(fake_meta.sends) == len(failures) + 1
    message = ours(app)
    assert message.external_id == "wamid.FAKE0001" and message.delivery_status == DeliveryStatus.SENT
    with app.app_context():
        row = db.session.scalar(select(WhatsAppSend).where(WhatsAppSend.message_id == message.id))
        assert row.attempts == len(failures) + 1 and row.next_attempt_at is None


def test_the_backoff_grows_between_tries(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    fake_meta.send_failures = [429, 429]
    with time_machine.travel(utcnow(), tick=False) as clock:
        user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Um momento"})
        run_jobs()
        with app.app_context():
            first = db.session.scalar(select(WhatsAppSend)).next_attempt_at - utcnow()
        clock.shift(first + timedelta(seconds=6))
        with app.app_context():
            tasks.sweep_sends()
            second = db.session.scalar(select(WhatsAppSend)).next_attempt_at - utcnow()
    assert first == sending.BACKOFF[0] and second == sending.BACKOFF[1] and second > first


def test_after_the_last_try_the_message_fails_with_the_reason_shown(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    fake_meta.send_failures = [500] * sending.MAX_TRIES
    with time_machine.travel(utcnow(), tick=False) as clock:
        user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Alô?"})
        run_jobs()
        for _ in range(sending.MAX_TRIES + 2):
            clock.shift(timedelta(minutes=6))
            with app.app_context():
                tasks.sweep_sends()
    assert len(fake_meta.sends) == sending.MAX_TRIES
    message = ours(app)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "An unknown error has occurred. (1)"
    page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    assert "An unknown error has occurred. (1)" in page and 'data-delivery="failed"' in page


def test_a_refusal_by_meta_fails_at_once_without_retries(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    fake_meta.send_failures = [400]
    user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Oi"})
    run_jobs()
    message = ours(app)
    assert (message.delivery_status, message.delivery_error) == ("failed", "Re-engagement message (131047)")
    with app.app_context():
        assert tasks.sweep_sends() == 0
    assert len(fake_meta.sends) == 1


def sync_templates(app, tenants, fake_meta):
    fake_meta.templates = [APPROVED, {**APPROVED, "name": "em_analise", "status": "PENDING"}]
    manager = make_user(app, tenants, email="gestor@alpha.test")
    assert manager.post("/app/settings/whatsapp/templates/sync").status_code == 303


def test_outside_the_window_text_is_refused_and_a_template_opens_one_using_a_session(
    app, tenants, chat, fake_meta, run_jobs
):
    user, conversation_id = chat
    sync_templates(app, tenants, fake_meta)
    client_id = tenants.a.client.id
    assert consumed(app, client_id) == 1
    with time_machine.travel(utcnow() + timedelta(hours=24, minutes=1), tick=False):
        refused = user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Ainda aí?"})
        assert refused.status_code == 303
        run_jobs()
        assert fake_meta.sends == [] and ours(app) is None
        page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
        assert "retomar_atendimento" in page and "em_analise" not in page
        with app.app_context():
            template_id = db.session.scalar(select(WhatsAppSend.id))  # none yet
        assert template_id is None
        sent = user.post(
            f"/app/conversations/{conversation_id}/whatsapp-template",
            {"template_id": template_row(app), "param_1": "Kerry", "param_2": "hoje"},
        )
        assert sent.status_code == 303
        run_jobs()
        assert consumed(app, client_id) == 2
        message = ours(app)
        assert message.body == "Olá Kerry, podemos continuar o atendimento hoje?" and message.is_template
        # The window is open again: text goes through now.
        user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Obrigado!"})
        run_jobs()
    first, second = fake_meta.sends
    assert first["json"]["type"] == "template"
    assert first["json"]["template"] == {
        "name": "retomar_atendimento",
        "language": {"code": "pt_BR"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Kerry"}, {"type": "text", "text": "hoje"}],
            }
        ],
    }
    assert second["json"]["text"]["body"] == "Obrigado!"
    assert consumed(app, client_id) == 2


def template_row(app) -> int:
    with app.app_context():
        return db.session.scalar(select(WhatsAppTemplate.id))


def test_a_template_with_a_missing_field_is_refused_and_nothing_is_sent(
    app, tenants, chat, fake_meta, run_jobs
):
    user, conversation_id = chat
    sync_templates(app, tenants, fake_meta)
    answer = user.post(
        f"/app/conversations/{conversation_id}/whatsapp-template",
        {"template_id": template_row(app), "param_1": "Kerry", "param_2": " "},
    )
    assert answer.status_code == 303
    run_jobs()
    assert fake_meta.sends == [] and ours(app) is None
    assert consumed(app, tenants.a.client.id) == 1


def test_free_text_marked_template_outside_the_window_fails_without_reaching_meta(
    app, chat, fake_meta, run_jobs
):
    user, conversation_id = chat
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        user.post(f"/app/conversations/{conversation_id}/messages", {"body": "Oi de novo", "template": "1"})
        run_jobs()
    assert fake_meta.sends == []
    message = ours(app)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "choose an approved WhatsApp template to send outside the window"


def test_a_file_inside_the_window_is_uploaded_to_meta_and_sent_with_its_caption(
    app, tenants, chat, fake_meta, run_jobs
):
    user, conversation_id = chat
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    answer = user.post(
        f"/app/conversations/{conversation_id}/whatsapp-file",
        {"file": (io.BytesIO(pdf), "orçamento.pdf"), "caption": "Segue o orçamento"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    run_jobs()
    [upload] = fake_meta.uploads
    assert pdf in upload and b'name="type"\r\n\r\napplication/pdf' in upload
    [request] = fake_meta.sends
    assert request["json"]["type"] == "document"
    assert request["json"]["document"] == {
        "id": "upload-1",
        "caption": "Segue o orçamento",
        "filename": "orçamento.pdf",
    }
    message = ours(app)
    assert message.kind == "document" and message.external_id == "wamid.FAKE0001"
    assert message.media_key.startswith(f"reseller/{tenants.a.id}/client/{tenants.a.client.id}/whatsapp/out/")
    download = user.get(f"/app/messages/{message.id}/media")
    assert download.data == pdf
    download.close()


def test_a_file_outside_the_window_or_a_refused_one_is_not_sent(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    program = user.post(
        f"/app/conversations/{conversation_id}/whatsapp-file",
        {"file": (io.BytesIO(b"MZ\x90\x00" + b"\0" * 64), "setup.exe")},
        content_type="multipart/form-data",
    )
    assert program.status_code == 303
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        late = user.post(
            f"/app/conversations/{conversation_id}/whatsapp-file",
            {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")},
            content_type="multipart/form-data",
        )
        assert late.status_code == 303
        run_jobs()
    assert fake_meta.uploads == [] and fake_meta.sends == [] and ours(app) is None

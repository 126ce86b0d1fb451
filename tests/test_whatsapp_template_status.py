"""A template Meta pauses, disables or rejects after the sync: its
``message_template_status_update`` webhook (for the business account, without a phone
number id) is signed and stored like any other, and its drain job updates the client's
stored template, which is then no longer offered nor sent; approved again, it is.
Idempotent and order-tolerant by the webhook's time; the client's own template only."""

from __future__ import annotations

import html
import time

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.test_whatsapp_templates import ORDER, media_template, send, synced_chat
from tests.whatsapp_setup import deliver, payload, sign
from whatsapp.models import WhatsAppEvent, WhatsAppTemplate
from whatsapp.states import EventOutcome


def status_payload(event: str, *, after: int, template_id: str = "1", name: str = "pedido_enviado", **values):
    return payload(
        "template_status",
        EVENT=event,
        TEMPLATE_ID=template_id,
        TEMPLATE_NAME=name,
        REASON="NONE" if event == "APPROVED" else "INCORRECT_CATEGORY",
        TIMESTAMP=str(int(time.time()) + after),  # seconds after now
        **values,
    )


@pytest.fixture
def chat(app, tenants, make_browser, fake_meta, run_jobs):
    return synced_chat(
        app, tenants, make_browser, fake_meta, run_jobs, [ORDER, media_template("boleto", "DOCUMENT")]
    )


def status_of(app, template_id: int) -> str:
    with app.app_context():
        return db.session.get(WhatsAppTemplate, template_id).status


def outcomes(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(WhatsAppEvent.outcome)
                .where(WhatsAppEvent.payload.contains("message_template_id"))
                .order_by(WhatsAppEvent.id)
            )
        )


def offered(user, conversation_id: int) -> bool:
    page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    return 'data-template="pedido_enviado"' in page


ORDER_FORM = {"header_param": "8812", "param_1": "Kerry", "button_0": "8812"}


def test_a_paused_template_is_no_longer_offered_nor_sent_and_comes_back_approved(
    app, chat, make_browser, fake_meta, run_jobs
):
    user, conversation_id, ids = chat
    assert offered(user, conversation_id)
    assert deliver(make_browser(), status_payload("PAUSED", after=5)).status_code == 200
    run_jobs()
    assert status_of(app, ids["pedido_enviado"]) == "PAUSED"
    assert status_of(app, ids["boleto"]) == "APPROVED"
    assert not offered(user, conversation_id)
    answer = send(user, conversation_id, {"template_id": ids["pedido_enviado"], **ORDER_FORM})
    assert 'A Meta não aprova mais o modelo "pedido_enviado"' in html.unescape(answer.get_data(as_text=True))
    run_jobs()
    assert fake_meta.sends == []

    deliver(make_browser(), status_payload("APPROVED", after=10))
    run_jobs()
    assert status_of(app, ids["pedido_enviado"]) == "APPROVED" and offered(user, conversation_id)
    send(user, conversation_id, {"template_id": ids["pedido_enviado"], **ORDER_FORM})
    run_jobs()
    assert [r["json"]["template"]["name"] for r in fake_meta.sends] == ["pedido_enviado"]
    assert outcomes(app) == [EventOutcome.APPLIED, EventOutcome.APPLIED]


def test_the_same_status_twice_and_an_older_one_late_change_nothing(app, chat, make_browser, run_jobs):
    _user, _conversation_id, ids = chat
    browser = make_browser()
    disabled = status_payload("DISABLED", after=20)
    deliver(browser, disabled)
    deliver(browser, disabled)
    deliver(browser, status_payload("APPROVED", after=15))  # Meta's retry of an older one
    run_jobs()
    assert status_of(app, ids["pedido_enviado"]) == "DISABLED"
    assert outcomes(app) == [EventOutcome.APPLIED, EventOutcome.NOTHING, EventOutcome.NOTHING]


def test_a_status_older_than_the_sync_does_not_overwrite_it(app, chat, make_browser, run_jobs):
    _user, _conversation_id, ids = chat
    deliver(make_browser(), status_payload("PAUSED", after=-3600))
    run_jobs()
    assert status_of(app, ids["pedido_enviado"]) == "APPROVED"


def test_a_template_synced_without_metas_id_is_found_by_name_and_language(app, chat, make_browser, run_jobs):
    _user, _conversation_id, ids = chat
    with app.app_context():
        db.session.get(WhatsAppTemplate, ids["boleto"]).meta_id = None
        db.session.commit()
    deliver(make_browser(), status_payload("REJECTED", after=5, template_id="777", name="boleto"))
    # Another of Meta's ids under a kept template's name and language is another template.
    deliver(make_browser(), status_payload("REJECTED", after=5, template_id="778", name="pedido_enviado"))
    run_jobs()
    with app.app_context():
        boleto = db.session.get(WhatsAppTemplate, ids["boleto"])
        assert (boleto.status, boleto.meta_id) == ("REJECTED", "777")
    assert status_of(app, ids["pedido_enviado"]) == "APPROVED"


def test_only_the_channels_client_template_changes(app, tenants, chat, make_browser, run_jobs):
    _user, _conversation_id, ids = chat
    with app.app_context():
        other = WhatsAppTemplate(
            reseller_id=tenants.b.id,
            client_id=tenants.b.client.id,
            name="pedido_enviado",
            language="pt_BR",
            body="Olá {{1}}",
            parameters=1,
            meta_id="1",
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    deliver(make_browser(), status_payload("PAUSED", after=5))
    run_jobs()
    assert status_of(app, ids["pedido_enviado"]) == "PAUSED"
    assert status_of(app, other_id) == "APPROVED"


def test_the_account_is_the_channel_an_unknown_one_is_404_and_the_signature_checked(
    app, tenants, chat, make_browser
):
    browser = make_browser()
    unknown = status_payload("PAUSED", after=0, WABA_ID="999999999")
    assert deliver(browser, unknown).status_code == 404
    raw = status_payload("PAUSED", after=0)
    assert deliver(browser, raw, signature=sign(raw, "another-secret")).status_code == 401
    assert deliver(browser, raw, signed=False).status_code == 401
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(WhatsAppEvent)
                .where(WhatsAppEvent.payload.contains("message_template_id"))
            )
            == 0
        )
    assert deliver(browser, raw).status_code == 200
    with app.app_context():
        [row] = db.session.scalars(
            select(WhatsAppEvent).where(WhatsAppEvent.payload.contains("message_template_id"))
        ).all()
        assert row.client_id == tenants.a.client.id

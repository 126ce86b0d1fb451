"""A client's WhatsApp channel settings (``/app/settings/whatsapp``): who may see them,
the secrets sealed at rest and never shown back, bad input refused with nothing saved,
the connection test, the templates' sync, the audit without secrets; received files
downloaded in the background and served only to who sees the conversation."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select

from auth import permissions as perm
from core.extensions import db
from core.models import AuditEvent
from core.timeutil import utcnow
from tenant.inbox_models import Conversation, Message
from tests.conftest import Browser
from tests.meta_fake import TOKEN
from tests.test_workspace import make_user
from tests.whatsapp_setup import APP_SECRET, PHONE_NUMBER_ID, connect, deliver, payload
from whatsapp import channels, tasks
from whatsapp.models import WhatsAppChannel, WhatsAppTemplate
from whatsapp.sealing import seal

FORM = {
    "phone_number_id": PHONE_NUMBER_ID,
    "business_account_id": "102290129340398",
    "verify_token": "meu-token-de-verificacao",
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def channel_row(app) -> WhatsAppChannel | None:
    with app.app_context():
        row = db.session.scalar(select(WhatsAppChannel))
        db.session.expunge_all()
        return row


def test_only_users_who_manage_the_inbox_reach_the_settings(app, tenants):
    agent = make_user(app, tenants, level=5)
    assert agent.get("/app/settings/whatsapp").status_code == 403
    assert agent.post("/app/settings/whatsapp", FORM).status_code == 403
    assert channel_row(app) is None
    manager = make_user(app, tenants, level=6)
    assert manager.get("/app/settings/whatsapp").status_code == 200
    assert 'href="/app/settings/whatsapp"' in manager.get("/app/teams").get_data(as_text=True)


MENU_LINK = 'href="/app/settings/whatsapp" data-nav="channel"'


def test_the_menu_links_the_settings_for_who_may_change_them_and_so_for_staff_acting_as_them(
    app, tenants, factory, make_browser
):
    agent = make_user(app, tenants, level=5, email="agente@alpha.test")
    manager = make_user(app, tenants, level=6, email="gestor@alpha.test")
    assert MENU_LINK not in agent.get("/app/").get_data(as_text=True)
    assert MENU_LINK in manager.get("/app/").get_data(as_text=True)
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    for user, shown in ((agent, False), (manager, True)):
        staff = make_browser()
        staff.login("sup@a.test")
        started = staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.account_id}/login-as")
        assert started.headers["Location"] == "/app/"
        assert (MENU_LINK in staff.get("/app/").get_data(as_text=True)) is shown
        assert staff.get("/app/settings/whatsapp").status_code == (200 if shown else 403)


def test_the_settings_form_refuses_a_post_without_its_csrf_token(app, tenants):
    manager = make_user(app, tenants)
    assert manager.post("/app/settings/whatsapp", FORM, csrf=False).status_code == 400
    assert channel_row(app) is None


def test_the_unsealed_secrets_kept_are_bounded_and_the_one_in_use_stays(app):
    """Past 1,024 unsealed app secrets the least recently used goes, never the one every
    delivery asks for (a cache cleared whole would open it again)."""
    with app.app_context():
        in_use = SimpleNamespace(app_secret_sealed=seal("in-use"))
        assert channels.app_secret(in_use) == "in-use"
        for n in range(1100):
            assert channels.app_secret(SimpleNamespace(app_secret_sealed=seal(f"other-{n}"))) == f"other-{n}"
            opened = channels._unsealed.cache_info().misses
            assert channels.app_secret(in_use) == "in-use"
            assert channels._unsealed.cache_info().misses == opened
        assert channels._unsealed.cache_info().currsize == 1024


def test_secrets_are_sealed_never_shown_and_kept_when_left_blank(app, tenants):
    manager = make_user(app, tenants)
    assert manager.post("/app/settings/whatsapp", FORM).status_code == 303
    row = channel_row(app)
    assert TOKEN not in row.access_token_sealed and APP_SECRET not in row.app_secret_sealed
    with app.app_context():
        assert (channels.access_token(row), channels.app_secret(row)) == (TOKEN, APP_SECRET)
    page = manager.get("/app/settings/whatsapp").get_data(as_text=True)
    assert TOKEN not in page and APP_SECRET not in page and PHONE_NUMBER_ID in page
    changed = {**FORM, "access_token": "", "app_secret": "", "business_account_id": "555"}
    assert manager.post("/app/settings/whatsapp", changed).status_code == 303
    row = channel_row(app)
    with app.app_context():
        assert (channels.access_token(row), channels.app_secret(row)) == (TOKEN, APP_SECRET)
    assert row.business_account_id == "555"
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("whatsapp.%"))).all()
        assert [e.action for e in events] == ["whatsapp.channel_created", "whatsapp.channel_changed"]
        written = repr([e.details for e in events])
    assert TOKEN not in written and APP_SECRET not in written and FORM["verify_token"] not in written


@pytest.mark.parametrize(
    "bad",
    [
        {"phone_number_id": "12ab"},
        {"business_account_id": ""},
        {"verify_token": "short"},
        {"access_token": ""},
        {"app_secret": "has space"},
        {"phone_number_id": "1" * 41},
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(app, tenants, bad):
    manager = make_user(app, tenants)
    answer = manager.post("/app/settings/whatsapp", {**FORM, **bad})
    assert answer.status_code == 422 and "alert" in answer.get_data(as_text=True)
    assert channel_row(app) is None


def test_a_number_connected_to_another_client_is_refused(app, tenants, factory):
    other = factory.client(tenants.a.id, trade_name="Outro cliente")
    connect(app, other.id)
    manager = make_user(app, tenants)
    answer = manager.post("/app/settings/whatsapp", FORM)
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(WhatsAppChannel.client_id)) == other.id


def test_the_connection_test_says_ok_or_metas_error(app, tenants, fake_meta):
    connect(app, tenants.a.client.id)
    manager = make_user(app, tenants)
    ok = manager.post("/app/settings/whatsapp/test", follow_redirects=True).get_data(as_text=True)
    assert "Loja Alpha" in ok
    assert fake_meta.requests[-1]["path"].endswith(f"/{PHONE_NUMBER_ID}")
    fake_meta.token = "another-token"
    failed = manager.post("/app/settings/whatsapp/test", follow_redirects=True).get_data(as_text=True)
    assert "Invalid OAuth access token - Cannot parse access token (190)" in failed


def test_the_sync_keeps_the_approved_templates_only(app, tenants, fake_meta):
    connect(app, tenants.a.client.id)
    manager = make_user(app, tenants)
    body = [{"type": "BODY", "text": "Seu pedido {{1}} saiu."}]
    fake_meta.templates = [
        {"name": "pedido_enviado", "language": "pt_BR", "status": "APPROVED", "components": body},
        {"name": "promocao", "language": "pt_BR", "status": "REJECTED", "components": body},
        {"name": "boas_vindas", "language": "en_US", "status": "APPROVED", "components": body},
    ]
    manager.post("/app/settings/whatsapp/templates/sync")
    fake_meta.templates = fake_meta.templates[:1]
    manager.post("/app/settings/whatsapp/templates/sync")
    with app.app_context():
        rows = db.session.scalars(select(WhatsAppTemplate)).all()
        assert [(t.name, t.language, t.parameters) for t in rows] == [("pedido_enviado", "pt_BR", 1)]


# --- received files --------------------------------------------------------------------


@pytest.fixture
def received(app, tenants, make_browser, fake_meta, run_jobs):
    """A photo and a PDF received from the contact, their files downloaded by the job."""
    connect(app, tenants.a.client.id)
    fake_meta.media["media-photo"] = ("image/png", PNG)
    fake_meta.media["media-pdf"] = ("application/pdf", PDF)
    browser = make_browser()
    deliver(browser, payload("image", WAMID="wamid.photo", MEDIA_ID="media-photo"))
    deliver(browser, payload("document", WAMID="wamid.pdf", MEDIA_ID="media-pdf"))
    run_jobs()
    with app.app_context():
        rows = {m.external_id: m for m in db.session.scalars(select(Message))}
        db.session.expunge_all()
    return rows["wamid.photo"], rows["wamid.pdf"]


def test_media_is_downloaded_under_the_clients_prefix_and_shown(app, tenants, received, fake_meta):
    photo, pdf = received
    prefix = f"reseller/{tenants.a.id}/client/{tenants.a.client.id}/whatsapp/"
    assert photo.media_key.startswith(prefix) and pdf.media_key.startswith(prefix)
    assert (photo.media_type, pdf.media_type, pdf.media_name) == (
        "image/png",
        "application/pdf",
        "nota-fiscal.pdf",
    )
    # Graph's media id, then the URL it names, both with the channel's token.
    assert any(r["url"].startswith("https://lookaside.fbsbx.com/") for r in fake_meta.requests)
    user = make_user(app, tenants)
    page = user.get(f"/app/conversations/{photo.conversation_id}").get_data(as_text=True)
    assert f'<img src="/app/messages/{photo.id}/media"' in page and f"/app/messages/{pdf.id}/media" in page
    image = user.get(f"/app/messages/{photo.id}/media")
    image_data, disposition = image.data, image.headers["Content-Disposition"]
    image.close()
    assert image.status_code == 200 and image_data == PNG and disposition.startswith("inline")
    document = user.get(f"/app/messages/{pdf.id}/media")
    document_data = document.data
    document.close()
    assert document_data == PDF


def test_media_is_served_only_to_who_sees_the_conversation(app, tenants, factory, received):
    photo, _pdf = received
    with app.app_context():
        conversation = db.session.get(Conversation, photo.conversation_id)
        conversation.assigned_account_id = factory.user(tenants.a.client.id, email="dono@alpha.test").id
        db.session.commit()
    own_only = make_user(app, tenants, level=1)
    assert own_only.get(f"/app/messages/{photo.id}/media").status_code == 404
    neighbour = factory.client(
        tenants.a.id, plan_id=tenants.a.plan.id, payment_status="paid", trade_name="Vizinho"
    )
    stranger = factory.user(neighbour.id, email="vizinho@alpha.test")
    other = Browser(app)
    other.login(stranger.email)
    assert other.get(f"/app/messages/{photo.id}/media").status_code == 404
    assert (
        other.post(
            f"/app/conversations/{photo.conversation_id}/whatsapp-template", {"template_id": "1"}
        ).status_code
        == 404
    )


def test_a_file_whose_download_failed_is_fetched_by_the_sweep(
    app, tenants, make_browser, fake_meta, run_jobs
):
    connect(app, tenants.a.client.id)
    fake_meta.media["media-late"] = ("image/png", PNG)
    fake_meta.media_failures = [500, 500, 500, 500]  # the job and its retries all fail
    with time_machine.travel(utcnow(), tick=False) as clock:
        deliver(make_browser(), payload("image", WAMID="wamid.late-photo", MEDIA_ID="media-late"))
        run_jobs()
        with app.app_context():
            message = db.session.scalar(select(Message))
            assert message.media_id == "media-late" and message.media_key is None
        fake_meta.media_failures = []
        clock.shift(timedelta(minutes=3))
        with app.app_context():
            assert tasks.sweep_media() == 1
            assert tasks.sweep_media() == 0  # kept: nothing left to fetch
    with app.app_context():
        assert db.session.scalar(select(Message)).media_key is not None


def test_a_file_meta_no_longer_has_stops_waiting(app, tenants, make_browser, fake_meta, run_jobs):
    connect(app, tenants.a.client.id)
    deliver(make_browser(), payload("document", WAMID="wamid.gone", MEDIA_ID="media-gone"))
    fake_meta.media["media-gone"] = ("application/pdf", PDF)
    fake_meta.media_failures = [400]
    run_jobs()
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.media_id is None and message.media_key is None and message.body == "Nota fiscal"


def test_without_the_platforms_key_no_channel_is_saved(app, tenants, monkeypatch):
    monkeypatch.setitem(app.config, "WHATSAPP_ENCRYPTION_KEY", None)
    manager = make_user(app, tenants)
    answer = manager.post("/app/settings/whatsapp", FORM)
    assert answer.status_code == 422
    assert "operator must set it up" in answer.get_data(as_text=True) or "operador" in answer.get_data(
        as_text=True
    )
    assert channel_row(app) is None

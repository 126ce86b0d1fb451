"""The periodic sync of every connected channel's templates (``whatsapp.tasks
.sync_templates``, every 6 hours): each channel in its own transaction and its client's
scope, one Meta refuses (401) or cannot answer for (5xx) left as it was while the others
are synced; audited only when the approved templates changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import jobs
from core.extensions import db
from core.models import AuditEvent
from tests.test_whatsapp_templates import ORDER, media_template
from tests.whatsapp_setup import connect
from whatsapp.models import WhatsAppTemplate

ACCOUNT_A, ACCOUNT_B = "102290129340398", "102290129340399"
SYNC = "whatsapp.tasks.sync_templates"


@pytest.fixture
def two_channels(app, tenants, fake_meta):
    connect(app, tenants.a.client.id, business_account_id=ACCOUNT_A)
    connect(
        app,
        tenants.b.client.id,
        phone_number_id="106540352242923",
        secret="test-only-app-secret-b",
        verify_token="verify-token-of-b",
        business_account_id=ACCOUNT_B,
    )
    return tenants.a.client.id, tenants.b.client.id


def kept(app, client_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(
            select(WhatsAppTemplate.name, WhatsAppTemplate.status).where(
                WhatsAppTemplate.client_id == client_id
            )
        ).all()
        return dict(rows)


def synced_audits(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "whatsapp.templates_synced")
        )


def run(app) -> None:
    with app.app_context():
        jobs.run_periodic(SYNC)


def test_the_sync_is_declared_every_six_hours_under_its_bypass(app):
    assert jobs.PERIODIC[SYNC] == 6 * 3600


@pytest.mark.parametrize("status", [500, 503, 401])
def test_every_channel_is_synced_and_one_failing_does_not_stop_the_others(
    app, two_channels, fake_meta, status
):
    client_a, client_b = two_channels
    fake_meta.templates = [ORDER, media_template("boleto", "DOCUMENT")]
    run(app)
    assert kept(app, client_a) == kept(app, client_b) == {"pedido_enviado": "APPROVED", "boleto": "APPROVED"}

    # Meta removes one; the first channel's answer fails: it is left as it was, the
    # next one is synced.
    fake_meta.templates = [ORDER]
    fake_meta.template_failures = {ACCOUNT_A: status}
    run(app)
    assert kept(app, client_a) == {"pedido_enviado": "APPROVED", "boleto": "APPROVED"}
    assert kept(app, client_b) == {"pedido_enviado": "APPROVED"}

    fake_meta.template_failures = {}
    run(app)
    assert kept(app, client_a) == {"pedido_enviado": "APPROVED"}


def test_a_paused_template_comes_back_once_meta_lists_it_approved_and_unchanged_runs_are_not_audited(
    app, two_channels, fake_meta
):
    client_a, _client_b = two_channels
    fake_meta.templates = [ORDER]
    run(app)
    assert synced_audits(app) == 2
    run(app)
    assert synced_audits(app) == 2  # nothing changed
    with app.app_context():
        template = db.session.scalar(select(WhatsAppTemplate).where(WhatsAppTemplate.client_id == client_a))
        template.status = "PAUSED"
        db.session.commit()
    run(app)
    assert kept(app, client_a) == {"pedido_enviado": "APPROVED"}
    assert synced_audits(app) == 3

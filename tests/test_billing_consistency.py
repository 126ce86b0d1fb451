"""The daily consistency check repairs a client's billing summary that drifted."""

from __future__ import annotations

from sqlalchemy import select

from billing.summary import check_summaries
from core.extensions import db
from core.models import AuditEvent
from tenant.models import Client


def test_a_drifted_summary_is_repaired_and_reported(app, tenants, ctx):
    assert check_summaries() == 0  # everything true to start with
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        client.plan_name, client.payment_status, client.status = "Outro", "overdue", "without_plan"
        db.session.commit()
    assert check_summaries() == 1
    with app.app_context():
        client = db.session.get(Client, tenants.a.client.id)
        assert (client.plan_name, client.payment_status, client.status) == ("Plano A", "paid", "active")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "billing.summary_repaired"))
        assert event.client_id == tenants.a.client.id and "plan_name" in event.details["drift"]
    assert check_summaries() == 0

"""The consistency check behind the client list's billing columns: recompute each
client's summary from its rows and repair (and report) any that drifted."""

from __future__ import annotations

import logging

from sqlalchemy import select

from billing.services import refresh_client_summary
from core import audit
from core.extensions import db
from tenant.models import Client

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = (
    "plan_id",
    "plan_name",
    "status",
    "sessions_quota",
    "due_date",
    "payment_type",
    "payment_status",
    "last_payment_date",
)
BATCH = 500


def check_summaries() -> int:
    """Repair drifted summaries in batches; returns how many clients were repaired."""
    repaired = 0
    last_id = 0
    while True:
        clients = db.session.scalars(
            select(Client)
            .where(Client.id > last_id, Client.deleted_at.is_(None))
            .order_by(Client.id)
            .limit(BATCH)
        ).all()
        if not clients:
            break
        for client in clients:
            before = {name: getattr(client, name) for name in SUMMARY_COLUMNS}
            refresh_client_summary(client)
            after = {name: getattr(client, name) for name in SUMMARY_COLUMNS}
            drift = {
                name: [before[name], after[name]] for name in SUMMARY_COLUMNS if before[name] != after[name]
            }
            if drift:
                repaired += 1
                log.warning("client %s billing summary drifted: %s", client.id, drift)
                audit.record(
                    "billing.summary_repaired",
                    client,
                    details={"drift": {k: str(v) for k, v in drift.items()}},
                )
        last_id = clients[-1].id
        db.session.commit()
    return repaired

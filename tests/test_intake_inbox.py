"""The inbound mail inbox (issue 14, intake.models): a row per received message, kept
before anyone knows whose it is; on PostgreSQL no reseller sees a row that is not routed
to it, and the intake reads across resellers only under its named bypass."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import scope
from core.extensions import db
from core.storage import get_storage
from core.timeutil import utcnow
from intake import inbox
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia

pytestmark = pytest.mark.usefixtures("ctx")


def a_row(**fields) -> InboundMessage:
    row = InboundMessage(
        storage_key="intake/test/raw",
        size=10,
        sha256="0" * 64,
        received_via=ReceivedVia.WEBHOOK,
        envelope_recipients=["suporte@a.test"],
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def count(row_id: int) -> int:
    stmt = select(func.count()).select_from(InboundMessage).where(InboundMessage.id == row_id)
    return db.session.scalar(stmt)


def test_a_stored_message_keeps_its_envelope_and_outcome(tenants):
    row = a_row(reseller_id=tenants.a.id, outcome=IntakeOutcome.UNROUTABLE)
    db.session.expire_all()
    again = db.session.get(InboundMessage, row.id)
    assert again.envelope_recipients == ["suporte@a.test"]
    assert again.outcome == IntakeOutcome.UNROUTABLE
    assert again.attempts == 0 and again.processed_at is None


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite scopes in the application only")


def test_an_unrouted_message_is_seen_by_no_reseller_only_by_the_intake(postgres, tenants):
    row = a_row()
    with scope.scoped(tenants.a.id):
        assert count(row.id) == 0
    with scope.bypass("mail-intake"):
        assert count(row.id) == 1


def test_a_message_routed_to_one_reseller_is_hidden_from_another(postgres, tenants):
    row = a_row(reseller_id=tenants.a.id)
    with scope.scoped(tenants.b.id):
        assert count(row.id) == 0
    with scope.scoped(tenants.a.id):
        assert count(row.id) == 1


def test_messages_of_no_reseller_are_removed_after_their_retention(tenants):
    """Unroutable, duplicate, rate-limited or a machine's: kept 30 days, then removed with
    their raw bytes; a routed message, a recent one and an unprocessed one stay."""
    old = utcnow() - inbox.UNROUTED_RETENTION - timedelta(hours=1)
    cases = {"old": (None, old, True), "recent": (None, utcnow(), True), "unprocessed": (None, old, False)}
    cases["routed"] = (tenants.a.id, old, True)
    made = {}
    for name, (reseller_id, received_at, processed) in cases.items():
        key = f"intake/retention/{name}"
        get_storage().put(key, io.BytesIO(b"raw"), "message/rfc822")
        row = InboundMessage(
            storage_key=key,
            size=3,
            sha256=name[0] * 64,
            received_via=ReceivedVia.SMTP,
            received_at=received_at,
            processed_at=received_at if processed else None,
            reseller_id=reseller_id,
        )
        db.session.add(row)
        db.session.flush()
        made[name] = (row.id, key)
    db.session.commit()
    assert inbox.expire_unrouted() == 1
    assert not get_storage().exists(made["old"][1]) and db.session.get(InboundMessage, made["old"][0]) is None
    for kept in ("recent", "unprocessed", "routed"):
        assert db.session.get(InboundMessage, made[kept][0]) is not None
        assert get_storage().exists(made[kept][1])

"""A deleted client's e-mail goes with it (issue 14): the raw messages its users sent
(kept under ``intake/<day>/``, outside the client's storage prefix) and their inbox rows,
and the bounce records of addresses only its users had; another client's stay."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.extensions import db
from core.mail import mark_undeliverable, undeliverable
from core.storage import get_storage
from desk.links import link_clients
from desk.models import Desk
from desk.states import StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status
from desk.ticket_models import Ticket
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia
from reseller import purge
from tests import test_intake_processing as processing_tests
from tests.test_client_deletion import deleted
from tests.test_intake_processing import SENDER, deliver, mail

desk_a = processing_tests.desk_a
ana = processing_tests.ana


def test_the_purge_removes_the_clients_received_mail_and_its_users_bounce_records(
    app, run_jobs, factory, tenants, desk_a, ana, browser, mailbox
):
    other = factory.client(tenants.a.id, plan_id=tenants.a.plan.id, payment_status="paid", trade_name="Outra")
    factory.user(other.id, email="bia@outra.test", name="Bia")
    with app.app_context():
        link_clients(db.session.get(Desk, desk_a.id), [other.id], None)
        db.session.commit()
    ours = deliver(app, run_jobs, mail())
    theirs = deliver(app, run_jobs, mail(sender="bia@outra.test", message_id="<bia@outra.test>"))
    # A message of Ana's that reached no ticket (discarded from the unknown senders queue).
    with app.app_context():
        key = "intake/2026/12/01/discarded"
        get_storage().put(key, io.BytesIO(b"raw"), "message/rfc822")
        waiting = InboundMessage(
            storage_key=key,
            size=3,
            sha256="3" * 64,
            received_via=ReceivedVia.SMTP,
            sender=SENDER,
            reseller_id=tenants.a.id,
            outcome=IntakeOutcome.DISCARDED,
        )
        db.session.add(waiting)
        db.session.commit()
        waiting_id = waiting.id
    assert ours.client_id == tenants.a.client.id and theirs.client_id == other.id
    with app.app_context():
        ticket = db.session.get(Ticket, ours.ticket_id)
        change_status(ticket, default_status(tenants.a.id, StatusKind.CLOSED))
        mark_undeliverable(tenants.a.id, SENDER, "5.1.1", "user unknown")
        mark_undeliverable(tenants.a.id, "bia@outra.test", "5.1.1", "user unknown")
        db.session.commit()
    deletion_id = deleted(app, browser, mailbox, run_jobs, tenants.a.client.id)
    with app.app_context():
        assert purge.purge_client(deletion_id, batch_size=2).finished
        storage = get_storage()
        assert not storage.exists(ours.storage_key) and not storage.exists(key)
        assert db.session.get(InboundMessage, waiting_id) is None
        assert storage.exists(theirs.storage_key)
        kept = db.session.scalars(select(InboundMessage.id)).all()
        assert kept == [theirs.id]
        assert undeliverable(tenants.a.id, [SENDER]) == {}
        assert list(undeliverable(tenants.a.id, ["bia@outra.test"])) == ["bia@outra.test"]

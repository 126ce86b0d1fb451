"""The desk package's data model (issue 13): default statuses, ticket numbers, what
counts as a client's open work, and the purge of a client's tickets."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from desk.models import DEFAULT_REVIEW_TIMEOUT_DAYS, Desk, DeskClient, TicketStatus
from desk.numbering import next_ticket_number
from desk.states import BLOCKING_KINDS, EntryKind, StatusKind
from desk.statuses import client_status_name, default_status, status_name
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry, TicketFollower
from reseller import purge
from reseller.models import ClientDeletion
from reseller.resellers import create_reseller
from tenant import clients
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


def test_a_new_reseller_has_one_default_status_of_each_kind(factory):
    reseller = factory.reseller(host="statuses.test")
    rows = db.session.scalars(
        select(TicketStatus).where(TicketStatus.reseller_id == reseller.id).order_by(TicketStatus.position)
    ).all()
    assert [r.kind for r in rows] == list(StatusKind)
    assert all(r.is_default for r in rows)
    assert {r.kind for r in rows if r.pauses_sla} == {
        StatusKind.WAITING_ON_CLIENT,
        StatusKind.WAITING_ON_THIRD_PARTY,
        StatusKind.PENDING_REVIEW,
    }
    waiting = default_status(reseller.id, StatusKind.WAITING_ON_CLIENT)
    assert status_name(waiting) == "Aguardando cliente"  # the kind's label (pt-BR) until renamed
    assert client_status_name(waiting) == "Aguardando sua resposta"
    waiting.name, waiting.client_name = "Com o cliente", "Aguardando você"
    assert (status_name(waiting), client_status_name(waiting)) == ("Com o cliente", "Aguardando você")


def test_ticket_numbers_count_up_per_reseller(factory, tenants):
    a, b = tenants.a, tenants.b
    first = [factory.ticket(a.client.id).number for _ in range(3)]
    assert first == [1, 2, 3]
    assert factory.ticket(b.client.id).number == 1
    assert next_ticket_number(a.id) == 4


@pytest.mark.parametrize("kind", list(StatusKind))
def test_only_unfinished_tickets_block_inactivation(factory, tenants, kind):
    client = factory.client(tenants.a.id, trade_name="Com chamado")
    factory.ticket(client.id, kind=kind)
    blockers = clients.inactivation_blockers(db.session.get(Client, client.id))
    assert bool(blockers) == (kind in BLOCKING_KINDS)


def test_the_purge_removes_the_clients_tickets_and_everything_on_them(app, factory, tenants):
    a = tenants.a
    deletion_id = factory.deletion(a.id)
    deletion = db.session.get(ClientDeletion, deletion_id)
    doomed = deletion.client_id
    desk = factory.desk(a.id, name="Suporte", client_ids=[doomed, a.client.id])
    kept = factory.ticket(a.client.id, desk_id=desk.id)
    for _ in range(2):
        ticket = db.session.get(Ticket, factory.ticket(doomed, desk_id=desk.id).id)
        entry = TicketEntry(
            reseller_id=a.id, client_id=doomed, ticket_id=ticket.id, kind=EntryKind.PUBLIC_REPLY, body="Oi"
        )
        db.session.add(entry)
        db.session.flush()
        db.session.add_all(
            [
                TicketAttachment(
                    reseller_id=a.id,
                    client_id=doomed,
                    ticket_id=ticket.id,
                    entry_id=entry.id,
                    storage_key=f"reseller/{a.id}/client/{doomed}/{ticket.id}",
                    filename="print.png",
                    size=10,
                    content_type="image/png",
                    sha256="0" * 64,
                ),
                TicketFollower(
                    reseller_id=a.id,
                    client_id=doomed,
                    ticket_id=ticket.id,
                    account_id=db.session.get(Client, doomed).responsible_account_id,
                ),
            ]
        )
    deletion.purge_due_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert purge.purge_client(deletion_id, batch_size=1).finished

    def rows(model, client_id):
        return db.session.scalar(select(func.count()).select_from(model).where(model.client_id == client_id))

    for model in (Ticket, TicketEntry, TicketAttachment, TicketFollower, DeskClient):
        assert rows(model, doomed) == 0, model.__tablename__
    assert rows(Ticket, a.client.id) == 1 and db.session.get(Ticket, kept.id) is not None
    assert db.session.get(ClientDeletion, deletion_id).purged_rows["tickets"] == 2


@pytest.mark.real_commits
def test_tickets_created_at_once_get_consecutive_numbers(app):
    # The counter row is raised under its lock: eight transactions at the same moment (the
    # first of them creating the counter) get 1..8, each once.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    with app.test_request_context("/", base_url="http://numbers.test"):
        reseller, _login = create_reseller(
            name="Números", host="numbers.test", owner_email="dono@numbers.test"
        )
        db.session.commit()
        reseller_id = reseller.id
    numbers: list[int] = []
    errors: list[str] = []
    start = threading.Barrier(8, timeout=10)

    def allocate() -> None:
        with app.app_context():
            try:
                start.wait()
                number = next_ticket_number(reseller_id)
                time.sleep(0.02)  # hold the lock a while
                db.session.commit()
                numbers.append(number)
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    try:
        threads = [threading.Thread(target=allocate) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(numbers) == list(range(1, 9))
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()


def test_a_desk_reviews_by_default_and_keeps_no_review_when_told(app, tenants):
    with app.app_context():
        reviewing = Desk(reseller_id=tenants.a.id, name="Com revisão")
        without = Desk(reseller_id=tenants.a.id, name="Sem revisão", review_timeout_days=None)
        db.session.add_all([reviewing, without])
        db.session.commit()
        db.session.expire_all()
        assert reviewing.review_timeout_days == DEFAULT_REVIEW_TIMEOUT_DAYS
        assert without.review_timeout_days is None

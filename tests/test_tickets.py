"""The ticket rules (issue 13, Tickets): opening, numbering under concurrency, the
timeline and its authors, status kinds with resolution and the reopen window, assignment
to the desk's staff only, merging, and the bulk actions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import delete, func, select

from auth.models import Account
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from desk.merging import BulkAction, bulk, merge
from desk.models import Desk, DeskClient, DeskStaff
from desk.replies import note_with_files, public_reply
from desk.states import EntryKind, EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import assign, change_status, follow, set_priority
from desk.ticket_models import Ticket, TicketEntry, TicketFollower
from desk.tickets import TicketRefused, open_ticket
from reseller.resellers import create_reseller
from tenant.models import Client
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def setup(factory, tenants):
    a = tenants.a
    desk = factory.desk(a.id, name="Suporte", client_ids=[a.client.id])
    staff = factory.staff(a.id, permissions=["desks"], email="agente@a.test")
    db.session.add(DeskStaff(desk_id=desk.id, account_id=staff.id, reseller_id=a.id))
    db.session.commit()
    client = db.session.get(Client, a.client.id)
    return {
        "desk": db.session.get(Desk, desk.id),
        "client": client,
        "requester": db.session.get(Account, client.responsible_account_id),
        "staff": db.session.get(Account, staff.id),
    }


def opened(setup, subject="Não consigo entrar") -> Ticket:
    return open_ticket(setup["desk"], setup["client"], setup["requester"], subject, "Detalhes")


def events(ticket, event_type=None) -> list[TicketEntry]:
    rows = db.session.scalars(
        select(TicketEntry).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.id)
    ).all()
    return [
        e for e in rows if e.kind == EntryKind.EVENT and (event_type is None or e.event["type"] == event_type)
    ]


def test_a_ticket_opens_new_with_the_desks_priority_and_a_created_event(setup):
    ticket = opened(setup)
    assert ticket.number == 1 and ticket.status_kind == StatusKind.NEW
    assert ticket.status_id == default_status(ticket.reseller_id, StatusKind.NEW).id
    assert ticket.priority == setup["desk"].default_priority
    (created,) = events(ticket)
    assert created.event["type"] == EventType.CREATED
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.created")) is not None


def test_a_ticket_needs_a_linked_desk_a_user_of_the_client_and_a_subject(setup, factory, tenants):
    other = db.session.get(Client, factory.client(tenants.a.id, trade_name="Sem mesa").id)
    other_user = db.session.get(Account, other.responsible_account_id)
    with pytest.raises(TicketRefused):
        open_ticket(setup["desk"], other, other_user, "x")
    with pytest.raises(TicketRefused):
        open_ticket(setup["desk"], setup["client"], other_user, "x")
    with pytest.raises(TicketRefused):
        open_ticket(setup["desk"], setup["client"], setup["requester"], "   ")
    with pytest.raises(TicketRefused):
        open_ticket(setup["desk"], setup["client"], setup["requester"], "x", priority="huge")


def test_entries_record_the_author_and_the_impersonator(app, setup):
    ticket = opened(setup)
    with app.test_request_context("/"):
        g.subject_account_id, g.actor_account_id = setup["requester"].id, setup["staff"].id
        g.auth_session = type("S", (), {"impersonator_account_id": setup["staff"].id})()
        entry = public_reply(ticket, "Resposta do cliente", setup["requester"])
    assert (entry.author_account_id, entry.acting_as_account_id) == (setup["requester"].id, setup["staff"].id)


def test_staff_reply_opens_a_new_ticket_and_notes_stay_internal(setup):
    ticket = opened(setup)
    public_reply(ticket, "Olá!", setup["staff"])
    assert ticket.status_kind == StatusKind.OPEN and ticket.first_responded_at is not None
    note = note_with_files(ticket, "Só entre nós", setup["staff"])
    assert note.kind == EntryKind.INTERNAL_NOTE
    with pytest.raises(TicketRefused):
        note_with_files(ticket, "Cliente não escreve notas", setup["requester"])
    with pytest.raises(TicketRefused):
        public_reply(ticket, "  ", setup["staff"])


def test_status_keeps_kind_and_times_in_step_and_reopens_only_within_the_window(setup):
    ticket = opened(setup)
    rid = ticket.reseller_id
    change_status(ticket, default_status(rid, StatusKind.RESOLVED))
    assert ticket.status_kind == StatusKind.RESOLVED and ticket.resolved_at is not None
    change_status(ticket, default_status(rid, StatusKind.OPEN))
    assert ticket.status_kind == StatusKind.OPEN and ticket.resolved_at is None and ticket.reopened_count == 1
    assert events(ticket, EventType.REOPENED)
    change_status(ticket, default_status(rid, StatusKind.CLOSED))
    assert ticket.closed_at is not None
    ticket.closed_at = ticket.resolved_at = utcnow() - timedelta(days=setup["desk"].reopen_window_days + 1)
    with pytest.raises(TicketRefused):
        change_status(ticket, default_status(rid, StatusKind.OPEN))
    with pytest.raises(TicketRefused):
        change_status(ticket, default_status(rid, StatusKind.MERGED))
    statuses = [e.event["after"]["kind"] for e in events(ticket, EventType.STATUS)]
    assert statuses == ["resolved", "open", "closed"]


def test_only_the_desks_staff_are_assigned_and_priority_is_ranked(setup, factory, tenants):
    ticket = opened(setup)
    outsider = factory.staff(tenants.a.id, permissions=["desks"])
    with pytest.raises(TicketRefused):
        assign(ticket, outsider.id)
    with pytest.raises(TicketRefused):
        assign(ticket, setup["requester"].id)
    assign(ticket, setup["staff"].id)
    assert ticket.assignee_account_id == setup["staff"].id
    set_priority(ticket, "urgent")
    assert (ticket.priority, ticket.priority_rank) == ("urgent", 4)
    assert [e.event["after"] for e in events(ticket, EventType.ASSIGNEE)] == [setup["staff"].id]


def test_merge_moves_the_timeline_and_refuses_the_wrong_pairs(setup, factory, tenants):
    first, second = opened(setup, "Um"), opened(setup, "Dois")
    public_reply(first, "Resposta no primeiro", setup["staff"])
    follow(first, setup["staff"])
    with pytest.raises(TicketRefused):
        merge(first, first)
    other_client = factory.client(tenants.a.id, trade_name="Outra")
    db.session.add(DeskClient(reseller_id=tenants.a.id, desk_id=setup["desk"].id, client_id=other_client.id))
    other = db.session.get(Client, other_client.id)
    foreign = open_ticket(
        setup["desk"], other, db.session.get(Account, other.responsible_account_id), "Outro"
    )
    with pytest.raises(TicketRefused):
        merge(first, foreign)
    merge(first, second)
    assert first.status_kind == StatusKind.MERGED and first.merged_into_id == second.id
    moved = db.session.scalars(select(TicketEntry.body).where(TicketEntry.ticket_id == second.id)).all()
    assert "Resposta no primeiro" in moved
    assert db.session.scalar(
        select(func.count()).select_from(TicketEntry).where(TicketEntry.ticket_id == first.id)
    )
    assert db.session.scalar(
        select(TicketFollower.ticket_id).where(TicketFollower.account_id == setup["staff"].id)
    )
    with pytest.raises(TicketRefused):
        merge(second, first)
    third = opened(setup, "Três")
    with pytest.raises(TicketRefused):
        merge(third, first)


def test_bulk_checks_each_ticket_and_reports_the_refused(setup):
    tickets = [opened(setup, f"T{i}") for i in range(3)]
    tickets[0].closed_at = tickets[0].resolved_at = utcnow() - timedelta(days=60)
    change_status(tickets[0], default_status(tickets[0].reseller_id, StatusKind.CLOSED))
    tickets[0].closed_at = utcnow() - timedelta(days=60)
    done, refused = bulk(tickets, BulkAction.ASSIGN, setup["staff"].id)
    assert done == 3 and refused == []
    open_status = default_status(tickets[0].reseller_id, StatusKind.OPEN)
    done, refused = bulk(tickets, BulkAction.STATUS, open_status.id)
    assert done == 2 and [number for number, _ in refused] == [tickets[0].number]
    done, refused = bulk(tickets[1:], BulkAction.CLOSE)
    assert done == 2 and all(t.status_kind == StatusKind.CLOSED for t in tickets[1:])
    with pytest.raises(TicketRefused):
        bulk(tickets, "explode")


@pytest.mark.real_commits
def test_numbers_stay_unique_when_tickets_open_at_once(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    with app.test_request_context("/", base_url="http://numbers.test"):
        reseller, _login = create_reseller(
            name="Números", host="numbers.test", owner_email="dono@numbers.test"
        )
        db.session.commit()
        reseller_id = reseller.id
    made = Factory(app, password="x" * 20)
    client = made.client(reseller_id, trade_name="Concorrente")
    desk = made.desk(reseller_id, name="Mesa", client_ids=[client.id])
    numbers, errors = [], []
    start = threading.Barrier(8, timeout=10)

    def open_one(n: int) -> None:
        with app.app_context():
            try:
                c = db.session.get(Client, client.id)
                start.wait()
                ticket = open_ticket(
                    db.session.get(Desk, desk.id),
                    c,
                    db.session.get(Account, c.responsible_account_id),
                    f"T{n}",
                )
                db.session.commit()
                numbers.append(ticket.number)
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(numbers) == list(range(1, 9))
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.execute(delete(Ticket).where(Ticket.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()

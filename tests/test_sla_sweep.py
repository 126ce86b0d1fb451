"""The SLA sweep (desk.sla_sweep): tickets whose clock becomes expiring or breached are
refreshed and their assignee and desk staff e-mailed, never twice for the same event."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select

from auth.models import Account
from core import jobs
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.scope import bypass
from desk import sla_batch
from desk.models import SlaTarget
from desk.sla_models import TicketSlaNotice
from desk.sla_state import recompute_for_policy, refresh
from desk.sla_sweep import LOOKAHEAD, due_ticket_ids, sweep, ticket_link
from desk.states import EntryKind, EventType, SlaClock, SlaState, StatusKind
from desk.ticket_models import Ticket, TicketEntry
from tests.sla_setup import at, move, new_ticket, reply, sla_desk

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def setup(app, factory, tenants):
    assignee = factory.staff(tenants.a.id, email="assignee@a.test")
    desk_staff = factory.staff(tenants.a.id, email="desk@a.test")
    gone = factory.staff(tenants.a.id, email="gone@a.test")
    db.session.get(Account, gone.id).active = False
    desk = sla_desk(factory, tenants.a.id, tenants.a.client.id, staff_ids=[desk_staff.id, gone.id])
    ticket = new_ticket(factory, desk, tenants.a.client.id)
    ticket.assignee_account_id = assignee.id
    refresh(ticket, now=at(0))
    db.session.commit()
    yield ticket


def notices(ticket_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(TicketSlaNotice.clock, TicketSlaNotice.event)
        .where(TicketSlaNotice.ticket_id == ticket_id)
        .order_by(TicketSlaNotice.id)
    )
    return [tuple(row) for row in rows]


def subjects(mailbox, address: str) -> list[str]:
    return [m["subject"] for m in mailbox.to(address)]


def test_expiring_then_breached_are_notified_once_each(app, setup, mailbox, run_jobs):
    ticket = setup
    assert due_ticket_ids(at(47) - LOOKAHEAD) == []  # the event at 48 is not due yet
    assert due_ticket_ids(at(47)) == [ticket.id]  # within the coming minute
    assert sweep(at(47)) == 0  # found, but not crossed yet: stays due
    assert sweep(at(50)) == 1
    assert sweep(at(50)) == 0
    assert sweep(at(61)) == 1
    assert sweep(at(62)) == 0
    run_jobs()
    assert notices(ticket.id) == [
        (SlaClock.FIRST_RESPONSE, "expiring"),
        (SlaClock.FIRST_RESPONSE, "breached"),
    ]
    stored = db.session.get(Ticket, ticket.id)
    assert stored.sla_state == SlaState.BREACHED and stored.sla_next_event_at == at(384)
    events = db.session.scalars(
        select(TicketEntry.event).where(
            TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.EVENT
        )
    ).all()
    assert [(e["type"], e["after"]) for e in events] == [
        (EventType.SLA, "expiring"),
        (EventType.SLA, "breached"),
    ]
    for address in ("assignee@a.test", "desk@a.test"):
        mails = subjects(mailbox, address)
        assert len(mails) == 2, mails
        assert "#1" in mails[0] and "vencendo" in mails[0] and "estourado" in mails[1]
    assert mailbox.to("gone@a.test") == []
    assert "http" in mailbox.to("desk@a.test")[0]["text"]


def test_a_clock_found_breached_sends_the_breach_alone(app, setup, mailbox, run_jobs):
    assert sweep(at(70)) == 2  # expiring and breached recorded at once
    run_jobs()
    assert len(subjects(mailbox, "desk@a.test")) == 1


def test_a_paused_ticket_is_not_notified(app, setup, mailbox, run_jobs):
    ticket = setup
    ticket = db.session.get(Ticket, ticket.id)
    move(ticket, StatusKind.WAITING_ON_CLIENT, 10)
    refresh(ticket, now=at(10))
    db.session.commit()
    assert ticket.sla_next_event_at is None and ticket.sla_state == SlaState.PAUSED
    assert sweep(at(500)) == 0
    run_jobs()
    assert notices(ticket.id) == []
    assert mailbox.messages == []


def test_a_late_reply_before_the_sweep_does_not_hide_the_breach(setup, mailbox, run_jobs):
    ticket = db.session.get(Ticket, setup.id)
    reply(ticket, ticket.assignee_account_id, 65)  # answered at 65: breached at 60
    refresh(ticket, now=at(65))
    db.session.commit()
    assert ticket.sla_next_event_at == at(48)  # its crossings are still to notify
    assert sweep(at(66)) == 2
    first = SlaClock.FIRST_RESPONSE
    assert notices(ticket.id) == [(first, "expiring"), (first, "breached")]
    run_jobs()
    assert len(subjects(mailbox, "desk@a.test")) == 1


def test_a_reply_in_time_leaves_nothing_to_notify(setup):
    ticket = db.session.get(Ticket, setup.id)
    reply(ticket, ticket.assignee_account_id, 55)  # expiring since 48, answered in time
    refresh(ticket, now=at(55))
    db.session.commit()
    assert ticket.sla_next_event_at == at(384)  # the resolution clock's
    assert sweep(at(56)) == 0


@pytest.mark.parametrize("batched", [False, True], ids=["one_by_one", "preloaded"])
def test_an_sla_change_is_recomputed_and_swept(app, setup, mailbox, run_jobs, batched):
    # The job (desk.tasks.recompute_policy) reads a batch's inputs at once (preloaded).
    prepare = {"prepare": sla_batch.preload} if batched else {}
    ticket = setup
    ticket = db.session.get(Ticket, ticket.id)
    target = db.session.scalars(
        select(SlaTarget).where(
            SlaTarget.policy_id == ticket.desk.sla_policy_id, SlaTarget.priority == ticket.priority
        )
    ).one()
    target.first_response_minutes = 240
    db.session.commit()
    assert recompute_for_policy(target.policy_id, now=at(30), **prepare) == 1
    assert db.session.get(Ticket, ticket.id).sla_next_event_at == at(192)
    assert sweep(at(100)) == 0
    target.first_response_minutes = 20  # stricter: breached already
    db.session.commit()
    recompute_for_policy(target.policy_id, now=at(30), **prepare)
    assert db.session.get(Ticket, ticket.id).sla_state == SlaState.BREACHED
    assert sweep(at(31)) == 2


def test_the_sweep_is_a_periodic_job_under_its_bypass(app, setup):
    assert jobs.PERIODIC["desk.tasks.sweep_sla"] == 60
    assert jobs.PERIODIC_BYPASS["desk.tasks.sweep_sla"] == "bypass:sla-sweep"
    ticket = db.session.get(Ticket, setup.id)
    ticket.sla_next_event_at = at(0)  # long due: the job sees it with the real clock
    db.session.commit()
    jobs.run_periodic("desk.tasks.sweep_sla")
    assert notices(ticket.id)  # breached long ago


def test_a_run_scheduled_by_the_previous_release_still_sweeps(app, setup):
    assert "desk.sla_sweep.sweep_job" not in jobs.PERIODIC  # not scheduled again after it
    ticket = db.session.get(Ticket, setup.id)
    ticket.sla_next_event_at = at(0)
    db.session.commit()
    jobs.run_periodic("desk.sla_sweep.sweep_job")  # its path, under the previous release's scope
    assert notices(ticket.id)


def test_the_link_is_on_the_canonical_host(app, setup):
    ticket = db.session.get(Ticket, setup.id)
    link = ticket_link(db.session.get(Reseller, ticket.reseller_id), ticket)
    assert link.startswith("http") and "a.test" in link


def test_two_sweeps_at_once_notify_once(app, factory):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency is checked on PostgreSQL")
    with app.app_context():
        reseller = factory.reseller(host="sla-sweep.test")
        client = factory.client(reseller.id)
        desk = sla_desk(factory, reseller.id, client.id, staff_ids=[factory.staff(reseller.id).id])
        ids = []
        for _ in range(30):
            ticket = new_ticket(factory, desk, client.id)
            refresh(ticket, now=at(0))
            ids.append(ticket.id)
        db.session.commit()
    counts: list[int] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        with app.app_context(), bypass("sla-sweep"):
            barrier.wait()
            counts.append(sweep(at(70), batch_size=7))
            db.session.remove()

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context():
            total = db.session.scalar(
                select(func.count()).select_from(TicketSlaNotice).where(TicketSlaNotice.ticket_id.in_(ids))
            )
            assert total == 60 and sum(counts) == 60, counts  # expiring + breached of each ticket
            # A second pass over the same tickets (locks gone) finds nothing new.
            assert sweep(at(70)) == 0
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()


test_two_sweeps_at_once_notify_once = pytest.mark.real_commits(test_two_sweeps_at_once_notify_once)

"""The client's review of a resolved ticket (issue 15, seed 004): staff resolving on a desk
with review send it to the client's review (with an e-mail on the canonical URL); the
requester or a user who sees all the client's tickets accepts it, or reopens it with a
reason within the desk's window; a reply reopens it too; nobody else reaches it; and the
periodic job accepts what nobody answered in time, once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from auth.models import Account
from core import jobs
from core.extensions import db
from core.models import AuditEvent, Reseller
from core.scope import bypass
from core.timeutil import utcnow
from desk import review
from desk.models import Desk
from desk.states import EntryKind, EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import follow
from desk.ticket_models import Ticket, TicketEntry
from desk.tickets import open_ticket
from tenant.models import Client
from tests.review_setup import (
    CANONICAL,
    build,
    events,
    impersonating,
    links,
    resolve,
    set_ticket,
    signed_in,
    status_id,
    ticket,
)


@pytest.fixture
def setup(app, factory, tenants):
    return build(app, factory, tenants)


@pytest.fixture
def agent(make_browser, setup):
    return signed_in(make_browser, "agente@a.test")


def test_resolving_on_a_review_desk_waits_for_the_review_and_mails_the_client(
    app, setup, agent, mailbox, run_jobs
):
    with app.app_context():
        follow(db.session.get(Ticket, setup.ticket_id), db.session.get(Account, setup.colleague.id))
        db.session.commit()
    mailbox.clear()
    before = utcnow()
    resolve(app, agent, setup)
    run_jobs()
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.PENDING_REVIEW
    assert before + timedelta(days=3) <= now.review_due_at <= utcnow() + timedelta(days=3)
    assert now.resolved_at is None  # not finished until the client accepts
    assert len(events(app, setup.ticket_id, EventType.REVIEW)) == 1
    # The requester and the client's follower, not the staff; the link on the canonical URL.
    assert sorted(a for m in mailbox.messages for a in m["to"]) == ["colega@alpha.test", "pedro@alpha.test"]
    expected = f"{CANONICAL}/app/tickets/{setup.ticket_id}"
    for message in mailbox.messages:
        assert "awaits your review" in message["text"] or "aguarda" in message["text"]
        assert expected in links(message)
    staff_page = agent.get(f"/reseller/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="review-awaiting"' in staff_page
    # Picking "resolved" again while it awaits the review is refused, not silently ignored.
    resolve(app, agent, setup)
    assert ticket(app, setup.ticket_id).review_due_at == now.review_due_at


def test_the_queues_bulk_status_sends_to_review_too(app, setup, agent):
    resolved = status_id(app, setup.a.id, StatusKind.RESOLVED)
    response = agent.post(
        "/reseller/tickets/bulk", {"ticket_ids": setup.ticket_id, "action": "status", "status_id": resolved}
    )
    assert response.status_code == 302
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.PENDING_REVIEW


def test_picking_a_pending_review_status_starts_the_same_review(app, setup, agent):
    pending = status_id(app, setup.a.id, StatusKind.PENDING_REVIEW)
    agent.post(f"/reseller/tickets/{setup.ticket_id}/status", {"status_id": pending})
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.PENDING_REVIEW and now.review_due_at is not None
    assert len(events(app, setup.ticket_id, EventType.REVIEW)) == 1


def test_a_desk_without_review_resolves_as_before(app, factory, tenants, make_browser):
    plain = build(app, factory, tenants, review_days=None)
    agent = signed_in(make_browser, "agente@a.test")
    pending = status_id(app, plain.a.id, StatusKind.PENDING_REVIEW)
    agent.post(f"/reseller/tickets/{plain.ticket_id}/status", {"status_id": pending})
    assert ticket(app, plain.ticket_id).status_kind == StatusKind.NEW  # nothing to wait for
    resolve(app, agent, plain)
    now = ticket(app, plain.ticket_id)
    assert now.status_kind == StatusKind.RESOLVED and now.review_due_at is None
    assert events(app, plain.ticket_id, EventType.REVIEW) == []


def test_the_requester_accepts(app, setup, agent, make_browser):
    resolve(app, agent, setup)
    pedro = signed_in(make_browser, "pedro@alpha.test")
    page = pedro.get(f"/app/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="ticket-review"' in page and 'id="review-accept"' in page and 'id="reopen-reason"' in page
    assert 'id="ticket-rate"' not in page  # rated once accepted
    response = pedro.post(f"/app/tickets/{setup.ticket_id}/accept")
    assert response.status_code == 302
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.RESOLVED and now.review_due_at is None and now.resolved_at
    [accepted] = events(app, setup.ticket_id, EventType.ACCEPTED)
    assert accepted.author == setup.requester.id and accepted.after["automatic"] is False
    panel = agent.get(f"/reseller/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'id="review-accepted" data-automatic="no"' in panel and "Pedro" in panel
    # Once accepted there is nothing left to accept.
    pedro.post(f"/app/tickets/{setup.ticket_id}/accept")
    assert len(events(app, setup.ticket_id, EventType.ACCEPTED)) == 1


def test_a_user_who_sees_all_the_clients_tickets_accepts(app, setup, agent, make_browser):
    resolve(app, agent, setup)
    chief = signed_in(make_browser, "chefe@alpha.test")
    assert chief.post(f"/app/tickets/{setup.ticket_id}/accept").status_code == 302
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.RESOLVED
    [accepted] = events(app, setup.ticket_id, EventType.ACCEPTED)
    assert accepted.author == setup.chief.id


def test_staff_logged_in_as_the_user_accept_as_acting_for_them(app, setup, agent, make_browser):
    resolve(app, agent, setup)
    acting = impersonating(make_browser, setup, setup.requester.id)
    assert acting.post(f"/app/tickets/{setup.ticket_id}/accept").status_code == 302
    [accepted] = events(app, setup.ticket_id, EventType.ACCEPTED)
    assert accepted.author == setup.requester.id and accepted.acting_as == setup.agent.id


def test_nobody_else_answers_the_review(app, factory, setup, agent, make_browser):
    resolve(app, agent, setup)
    due = ticket(app, setup.ticket_id).review_due_at
    neighbour = factory.client(
        setup.a.id, trade_name="Vizinha", plan_id=setup.a.plan.id, payment_status="paid"
    )
    factory.user(neighbour.id, email="gente@vizinha.test")
    for email in ("colega@alpha.test", "gente@vizinha.test"):
        other = signed_in(make_browser, email)
        assert other.post(f"/app/tickets/{setup.ticket_id}/accept").status_code == 404, email
        reopened = other.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "Não resolveu"})
        assert reopened.status_code == 404, email
    # Staff of the reseller do not answer it from the portal either.
    assert agent.post(f"/app/tickets/{setup.ticket_id}/accept").status_code in (302, 403, 404)
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.PENDING_REVIEW and now.review_due_at == due
    assert events(app, setup.ticket_id, EventType.ACCEPTED) == []


def test_reopening_needs_a_reason_and_respects_the_window(app, setup, agent, make_browser):
    resolve(app, agent, setup)
    pedro = signed_in(make_browser, "pedro@alpha.test")
    pedro.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "   "})
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.PENDING_REVIEW
    pedro.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "Ainda não imprime."})
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.OPEN and now.review_due_at is None and now.reopened_count == 1
    with app.app_context():
        reply = db.session.scalars(
            select(TicketEntry)
            .where(TicketEntry.ticket_id == setup.ticket_id, TicketEntry.kind == EntryKind.PUBLIC_REPLY)
            .order_by(TicketEntry.id.desc())
        ).first()
        assert reply.body == "Ainda não imprime." and reply.author_account_id == setup.requester.id
    # Resolved and accepted: reopened within the desk's 7 days, not after.
    resolve(app, agent, setup)
    pedro.post(f"/app/tickets/{setup.ticket_id}/accept")
    set_ticket(app, setup.ticket_id, resolved_at=utcnow() - timedelta(days=8))
    pedro.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "Voltou a falhar."})
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.RESOLVED
    set_ticket(app, setup.ticket_id, resolved_at=utcnow() - timedelta(days=6))
    pedro.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "Voltou a falhar."})
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.OPEN


def test_a_client_reply_reopens_a_ticket_awaiting_review(app, setup, agent, make_browser):
    resolve(app, agent, setup)
    pedro = signed_in(make_browser, "pedro@alpha.test")
    pedro.post(f"/app/tickets/{setup.ticket_id}/reply", {"body": "Continua com defeito."})
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.OPEN and now.review_due_at is None
    assert len(events(app, setup.ticket_id, EventType.REOPENED)) == 1


def test_staff_moving_it_out_of_review_clear_the_due_time(app, setup, agent):
    resolve(app, agent, setup)
    waiting = status_id(app, setup.a.id, StatusKind.WAITING_ON_CLIENT)
    agent.post(f"/reseller/tickets/{setup.ticket_id}/status", {"status_id": waiting})
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.WAITING_ON_CLIENT and now.review_due_at is None


def test_the_job_accepts_after_the_timeout_and_not_before(app, setup, agent, mailbox, run_jobs):
    assert jobs.PERIODIC_BYPASS["desk.tasks.accept_due_reviews"] == "bypass:review-sweep"
    resolve(app, agent, setup)
    with app.app_context():
        jobs.run_periodic("desk.tasks.accept_due_reviews")
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.PENDING_REVIEW  # not due yet
    set_ticket(app, setup.ticket_id, review_due_at=utcnow() - timedelta(minutes=1))
    run_jobs()  # the review's own e-mail out of the way
    mailbox.clear()
    with app.app_context():
        jobs.run_periodic("desk.tasks.accept_due_reviews")
    run_jobs()
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.RESOLVED and now.review_due_at is None
    [accepted] = events(app, setup.ticket_id, EventType.ACCEPTED)
    assert accepted.author is None and accepted.acting_as is None and accepted.after["automatic"] is True
    # The requester is offered the rating.
    assert [m["to"] for m in mailbox.messages] == [["pedro@alpha.test"]]
    # Idempotent: nothing more to accept.
    with app.app_context(), bypass("review-sweep"):
        assert review.accept_due() == 0
    assert len(events(app, setup.ticket_id, EventType.ACCEPTED)) == 1
    panel = agent.get(f"/reseller/tickets/{setup.ticket_id}").get_data(as_text=True)
    assert 'data-automatic="yes"' in panel


def test_the_job_works_in_batches(app, factory, setup, agent):
    resolve(app, agent, setup)
    with app.app_context():
        more = [factory.ticket(setup.a.client.id, desk_id=setup.desk.id).id for _ in range(4)]
        pending = status_id(app, setup.a.id, StatusKind.PENDING_REVIEW)
        past = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(Ticket)
            .where(Ticket.id.in_([setup.ticket_id, *more]))
            .values(status_id=pending, status_kind=StatusKind.PENDING_REVIEW, review_due_at=past)
        )
        db.session.commit()
    with app.app_context(), bypass("review-sweep"):
        assert review.accept_due(batch_size=2) == 5
        assert review.accept_due(batch_size=2) == 0
    assert {ticket(app, i).status_kind for i in [setup.ticket_id, *more]} == {StatusKind.RESOLVED}


def test_a_ticket_merged_while_awaiting_review_is_never_accepted(app, factory, setup, agent):
    resolve(app, agent, setup)
    other = factory.ticket(setup.a.client.id, desk_id=setup.desk.id)
    agent.post(f"/reseller/tickets/{setup.ticket_id}/merge", {"into": str(other.number)})
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.MERGED and now.review_due_at is None


@pytest.mark.real_commits
def test_two_jobs_at_once_accept_each_ticket_once(app, factory):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    reseller = factory.reseller(host="review-sweep.test")
    client = factory.client(reseller.id)
    desk = factory.desk(reseller.id, name="Revisão", client_ids=[client.id])
    requester = factory.user(client.id, email="quem@review-sweep.test")
    try:
        with app.app_context():
            ids = [
                open_ticket(
                    db.session.get(Desk, desk.id),
                    db.session.get(Client, client.id),
                    db.session.get(Account, requester.id),
                    f"Chamado {n}",
                ).id
                for n in range(12)
            ]
            pending = default_status(reseller.id, StatusKind.PENDING_REVIEW)
            db.session.execute(
                update(Ticket)
                .where(Ticket.id.in_(ids))
                .values(
                    status_id=pending.id,
                    status_kind=StatusKind.PENDING_REVIEW,
                    review_due_at=utcnow() - timedelta(hours=1),
                )
            )
            db.session.commit()
        counts: list[int] = []
        barrier = threading.Barrier(4, timeout=10)

        def run() -> None:
            with app.app_context(), bypass("review-sweep"):
                barrier.wait()
                counts.append(review.accept_due(batch_size=5))
                db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with app.app_context():
            accepted = db.session.scalar(
                select(func.count())
                .select_from(TicketEntry)
                .where(TicketEntry.ticket_id.in_(ids), TicketEntry.kind == EntryKind.EVENT)
                .where(TicketEntry.event["type"].as_string() == EventType.ACCEPTED.value)
            )
            assert accepted == 12 and sum(counts) == 12, counts
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller.id))
            db.session.delete(db.session.get(Reseller, reseller.id))
            db.session.commit()


def test_a_closed_ticket_resolved_again_waits_for_a_new_review(app, setup, agent, make_browser):
    closed = status_id(app, setup.a.id, StatusKind.CLOSED)
    agent.post(f"/reseller/tickets/{setup.ticket_id}/status", {"status_id": closed})
    resolve(app, agent, setup)  # within the window: reopened into the client's review
    now = ticket(app, setup.ticket_id)
    assert now.status_kind == StatusKind.PENDING_REVIEW and now.reopened_count == 1
    pedro = signed_in(make_browser, "pedro@alpha.test")
    pedro.post(f"/app/tickets/{setup.ticket_id}/reopen", {"reason": "Não era isso."})
    assert ticket(app, setup.ticket_id).status_kind == StatusKind.OPEN

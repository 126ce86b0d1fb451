"""Processing stored messages in bulk (``intake.draining``): the processing job is
coalesced, so one job processes every message stored while it waited, each in its own
transaction, and delivers their acknowledgements itself; a message that fails among
them leaves the others processed and is recorded and retried by a job of its own."""

from __future__ import annotations

import io

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry, ScheduledJobRegistry

from core.extensions import db
from core.jobs import forget_waiting, get_redis
from intake import draining, inbox, processing, tasks
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import SENDER, mail, tickets_of

desk_a = processing_tests.desk_a
ana = processing_tests.ana


def store(app, raw: bytes) -> int:
    with app.app_context():
        return inbox.store(io.BytesIO(raw), via=ReceivedVia.SMTP)


def row_of(row_id: int) -> InboundMessage:
    db.session.expire_all()
    return db.session.get(InboundMessage, row_id)


def three(app, *, bad: int | None = None) -> list[int]:
    subjects = ["Primeira", "Segunda", "Terceira"]
    if bad is not None:
        subjects[bad] = "Quebrada"
    return [store(app, mail(subject=s, message_id=f"<{n}@cliente.test>")) for n, s in enumerate(subjects)]


@pytest.fixture
def breaks_on_quebrada(monkeypatch):
    """Processing fails on the message whose subject is "Quebrada" (any unexpected error)."""
    bodies = processing._bodies

    def failing(message):
        if message.subject == "Quebrada":
            raise RuntimeError("the sanitiser fell over")
        return bodies(message)

    monkeypatch.setattr(processing, "_bodies", failing)


def needs_postgres_and_redis(app) -> None:
    if not draining.drains() or not app.config.get("REDIS_URL"):
        pytest.skip("a drain takes rows with SKIP LOCKED, jobs coalesce on Redis: PostgreSQL + Redis suite")


@pytest.mark.usefixtures("ctx")
def test_one_job_opens_the_tickets_of_every_message_stored_while_it_waited(
    app, run_jobs, mailbox, tenants, ana
):
    needs_postgres_and_redis(app)
    ids = three(app)
    mail_queue = Queue("mail", connection=get_redis(app))
    [job] = mail_queue.get_jobs()
    assert job.args == ("intake.tasks.process_message", ids[0])
    run_jobs()
    assert [row_of(i).outcome for i in ids] == [IntakeOutcome.TICKET_OPENED] * 3
    assert sorted(t.subject for t in tickets_of(tenants.a.client.id)) == ["Primeira", "Segunda", "Terceira"]
    # Acknowledged by the job itself: three mails sent, and no delivery job of their own ran.
    assert len(mailbox.to(SENDER)) == 3
    finished = FinishedJobRegistry(queue=mail_queue).get_job_ids()
    ran = [Job.fetch(job_id, connection=get_redis(app)).args[0] for job_id in finished]
    assert ran == ["intake.tasks.process_message"]


@pytest.mark.usefixtures("ctx", "breaks_on_quebrada")
def test_a_message_that_fails_in_a_drain_is_recorded_and_retried_by_a_job_of_its_own(
    app, run_jobs, mailbox, monkeypatch, tenants, ana
):
    needs_postgres_and_redis(app)
    first, bad, last = three(app, bad=1)
    run_jobs()
    assert row_of(first).outcome == row_of(last).outcome == IntakeOutcome.TICKET_OPENED
    failed = row_of(bad)
    assert (failed.processed_at, failed.attempts) == (None, 1)
    assert "the sanitiser fell over" in failed.last_error
    assert len(mailbox.to(SENDER)) == 2  # the others' acknowledgements went out
    # Its retry waits RETRY_AFTER in RQ's scheduler, with the retries a message's job has.
    [retry_id] = ScheduledJobRegistry(queue=Queue("mail", connection=get_redis(app))).get_job_ids()
    retry = Job.fetch(retry_id, connection=get_redis(app))
    assert retry.args == ("intake.tasks.process_message", bad) and retry.retries_left == draining.RETRIES
    monkeypatch.undo()
    assert tasks.process_message(bad) == IntakeOutcome.TICKET_OPENED
    assert row_of(bad).attempts == 2
    assert len(mailbox.to(SENDER)) == 3


@pytest.mark.usefixtures("ctx", "breaks_on_quebrada")
def test_a_job_whose_own_message_fails_still_drains_the_others_then_fails_for_its_retry(
    app, mailbox, tenants, ana
):
    needs_postgres_and_redis(app)
    bad, second, third = three(app, bad=0)
    with pytest.raises(RuntimeError, match="the sanitiser fell over"):
        tasks.process_message(bad)
    assert row_of(second).outcome == row_of(third).outcome == IntakeOutcome.TICKET_OPENED
    assert (row_of(bad).processed_at, row_of(bad).attempts) == (None, 1)
    assert len(mailbox.to(SENDER)) == 2


@pytest.mark.usefixtures("ctx")
def test_a_drain_never_takes_a_message_another_job_already_tried(app, tenants, ana):
    needs_postgres_and_redis(app)
    ids = three(app)
    db.session.get(InboundMessage, ids[1]).attempts = 1  # failed once: its own job retries it
    db.session.commit()
    tasks.process_message(ids[0])
    opened = IntakeOutcome.TICKET_OPENED
    assert [row_of(i).outcome for i in ids] == [opened, None, opened]


@pytest.mark.usefixtures("ctx")
def test_a_drain_stopped_at_its_bound_queues_its_continuation(app, run_jobs, monkeypatch, tenants, ana):
    needs_postgres_and_redis(app)
    monkeypatch.setattr(draining, "MAX_MESSAGES", 1)
    ids = three(app)
    forget_waiting(app)  # as a worker: another process, which saw no job waiting
    tasks.process_message(ids[0])  # its own message, then one more
    assert [row_of(i).outcome for i in ids][1:] == [IntakeOutcome.TICKET_OPENED, None]
    queued = [job.args for job in Queue("mail", connection=get_redis(app)).get_jobs()]
    assert queued == [("intake.tasks.process_message", ids[0]), ("intake.tasks.drain_inbox",)]
    monkeypatch.undo()
    run_jobs()
    assert [row_of(i).outcome for i in ids] == [IntakeOutcome.TICKET_OPENED] * 3


@pytest.mark.usefixtures("ctx")
def test_without_skip_locked_a_job_processes_its_own_message_alone(app, tenants, ana):
    if draining.drains():
        pytest.skip("SQLite's path: there a job never drains")
    ids = three(app)  # in process, each message's job already ran at its commit
    assert [row_of(i).outcome for i in ids] == [IntakeOutcome.TICKET_OPENED] * 3
    later = store(app, mail(subject="Quarta", message_id="<4@cliente.test>"))
    assert row_of(later).outcome == IntakeOutcome.TICKET_OPENED

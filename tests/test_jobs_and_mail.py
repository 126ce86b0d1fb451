"""Jobs and mail run only after the transaction commits; mail goes through real SMTP."""

from __future__ import annotations

import os

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from core import jobs
from core.extensions import db
from core.mail import read_outbox, send_mail


def test_mail_is_delivered_through_smtp_after_commit(app, ctx, mailbox, run_jobs):
    send_mail("ana@example.test", "Olá", "Corpo da mensagem")
    assert mailbox.messages == []  # nothing leaves before the commit
    db.session.commit()
    run_jobs()
    [message] = mailbox.to("ana@example.test")
    assert message["subject"] == "Olá"
    assert "Corpo da mensagem" in message["text"]


def test_mail_of_a_rolled_back_transaction_is_never_sent(app, ctx, mailbox, run_jobs):
    send_mail("ana@example.test", "Never", "x")
    db.session.rollback()
    db.session.commit()
    run_jobs()
    assert mailbox.messages == []


def test_jobs_run_after_commit_and_not_after_rollback(app, ctx, tmp_path, run_jobs):
    target = tmp_path / "log.txt"
    jobs.enqueue("tests.job_targets.append_line", str(target), "kept", queue="maintenance")
    db.session.commit()
    jobs.enqueue("tests.job_targets.append_line", str(target), "dropped", queue="maintenance")
    db.session.rollback()
    run_jobs()
    assert target.read_text().splitlines() == ["kept"]


def test_unknown_queue_is_refused(ctx):
    with pytest.raises(ValueError):
        jobs.enqueue("tests.job_targets.append_line", "x", "y", queue="nope")


def test_rq_jobs_go_to_named_queues_with_retries(app, ctx, tmp_path):
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ is only used when REDIS_URL is set (PostgreSQL + Redis suite)")
    jobs.enqueue(
        "tests.job_targets.append_line",
        str(tmp_path / "x"),
        "y",
        queue="exports",
        job_id="export-test-1",
        retries=2,
    )
    db.session.commit()
    queue = jobs.get_queue(app, "exports")
    job = queue.fetch_job("export-test-1")
    assert job is not None
    assert job.args[0] == "tests.job_targets.append_line"
    assert job.retries_left == 2


def test_without_smtp_mail_goes_to_the_outbox_page(app, tenants, browser, tmp_path, run_jobs):
    saved = app.config["SMTP_URL"], app.config["OUTBOX_DIR"]
    app.config["SMTP_URL"], app.config["OUTBOX_DIR"] = None, str(tmp_path / "outbox")
    try:
        with app.app_context():
            send_mail("bia@example.test", "Código de acesso", "Seu código: 123456")
            db.session.commit()
        run_jobs()
        with app.app_context():
            assert read_outbox()[0]["subject"] == "Código de acesso"
        page = browser.get("/dev/outbox").get_data(as_text=True)
        assert "Seu código: 123456" in page
    finally:
        app.config["SMTP_URL"], app.config["OUTBOX_DIR"] = saved


def test_periodic_sweeps_are_scheduled_once_with_a_fixed_id_and_reschedule_themselves(app, ctx):
    assert jobs.PERIODIC.get("billing.webhooks.sweep_job") == 60
    if not app.config.get("REDIS_URL"):
        # Without Redis the demo runs them from a thread; the testing profile runs none.
        assert "periodic_thread" not in app.extensions
        return

    jobs.schedule_periodic(app)
    jobs.schedule_periodic(app)  # a second worker starting: still one scheduled job each
    registry = ScheduledJobRegistry("maintenance", connection=jobs.get_redis(app))
    expected = sorted(jobs.periodic_job_id(path) for path in jobs.PERIODIC)
    assert sorted(registry.get_job_ids()) == expected
    sweep_id = jobs.periodic_job_id("billing.webhooks.sweep_job")
    registry.remove(sweep_id)
    jobs.run_periodic("billing.webhooks.sweep_job")
    assert sorted(registry.get_job_ids()) == expected


def test_a_periodic_job_outlives_its_run_and_lost_schedules_come_back(app, ctx):
    """A sweep due every 10 minutes must still exist when it is due (RQ keeps a finished
    job's hash only 500 s by default); a Redis that restarted empty gets them back."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ is only used when REDIS_URL is set (PostgreSQL + Redis suite)")

    redis = jobs.get_redis(app)
    registry = ScheduledJobRegistry("maintenance", connection=redis)
    path = "billing.deadlines.sweep_deadlines"
    assert jobs.PERIODIC[path] > 500
    job_id = jobs.periodic_job_id(path)
    # Run it once now, as the scheduler does when it is due: the stored job is queued.
    jobs.schedule_periodic(app)
    registry.remove(job_id)
    queue = jobs.get_queue(app, "maintenance")
    queue.enqueue_job(Job.fetch(job_id, connection=redis))
    SimpleWorker(["maintenance"], connection=redis).work(burst=True)
    assert job_id in registry.get_job_ids()  # its next run is scheduled ...
    assert redis.ttl(Job.key_for(job_id)) == -1  # ... and its hash does not expire before it
    assert Job.fetch(job_id, connection=redis).func_name == "core.jobs.run_periodic"

    redis.flushdb()  # Redis restarted without persistence
    assert jobs.ensure_periodic(app) == len(jobs.PERIODIC)
    assert sorted(registry.get_job_ids()) == sorted(jobs.periodic_job_id(p) for p in jobs.PERIODIC)
    assert jobs.ensure_periodic(app) == 0


@pytest.mark.parametrize("no_fork", [True, False])
def test_the_worker_runs_jobs_in_its_own_process_only_when_told(app, runner_app, tmp_path, no_fork):
    """``worker --no-fork`` (the mail queue's many short jobs keep the app's connections
    and compiled queries warm); the default forks a work horse per job."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ is only used when REDIS_URL is set (PostgreSQL + Redis suite)")
    ran = tmp_path / "pids"
    with app.app_context():
        jobs.enqueue_committed("tests.job_targets.append_pid", str(ran), queue="maintenance")
    args = ["worker", "--burst", *(["--no-fork"] if no_fork else []), "maintenance"]
    result = runner_app.invoke(args=args)
    assert result.exit_code == 0, result.output
    pids = ran.read_text().split()
    assert len(pids) == 1
    assert (pids[0] == str(os.getpid())) is no_fork

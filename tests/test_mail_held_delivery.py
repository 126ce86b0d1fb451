"""Jobs a job runs itself after its commit (``core.held_jobs``), as the mail intake
delivers its acknowledgements: sent only once the transaction committed, never for a
rolled-back one, and queued as the usual job (with its retries) when the delivery fails
here or was not run before the block ended."""

from __future__ import annotations

import smtplib

import pytest
from rq import Queue

from core import mail
from core.extensions import db
from core.held_jobs import run_held, run_here
from core.jobs import get_redis

TO = "cliente@exemplo.test"


def mail_jobs(app) -> list:
    if not app.config.get("REDIS_URL"):
        return []
    return [job.args[0] for job in Queue("mail", connection=get_redis(app)).get_jobs()]


@pytest.mark.usefixtures("ctx")
def test_a_held_delivery_is_sent_by_this_process_after_the_commit_and_queues_no_job(app, mailbox):
    with run_here(mail.DELIVER):
        mail.send_mail(TO, "Recebemos", "Chamado aberto.")
        db.session.commit()
        assert mailbox.messages == [] and mail_jobs(app) == []  # held, not queued nor sent
        assert run_held() == 1
        assert [m["subject"] for m in mailbox.to(TO)] == ["Recebemos"]
    assert mail_jobs(app) == []


@pytest.mark.usefixtures("ctx")
def test_no_mail_is_sent_for_a_transaction_that_rolled_back(app, run_jobs, mailbox):
    with run_here(mail.DELIVER):
        mail.send_mail(TO, "Recebemos", "Chamado aberto.")
        db.session.rollback()
        assert run_held() == 0
    run_jobs()
    assert mailbox.messages == [] and mail_jobs(app) == []


@pytest.mark.usefixtures("ctx")
def test_a_delivery_that_fails_here_is_queued_as_its_job_and_retried(app, run_jobs, mailbox, monkeypatch):
    send = mail._send_smtp
    calls = []

    def flaky(url, email):
        calls.append(email["Subject"])
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("the relay hung up")
        send(url, email)

    monkeypatch.setattr(mail, "_send_smtp", flaky)
    with run_here(mail.DELIVER):
        mail.send_mail(TO, "Recebemos", "Chamado aberto.")
        db.session.commit()
        assert run_held() == 0
    if app.config.get("REDIS_URL"):
        [job] = Queue("mail", connection=get_redis(app)).get_jobs()
        assert job.args[0] == mail.DELIVER and job.retries_left == 5
        run_jobs()
    assert [m["subject"] for m in mailbox.to(TO)] == ["Recebemos"] and len(calls) == 2


@pytest.mark.usefixtures("ctx")
def test_held_jobs_not_run_when_the_block_ends_are_queued(app, run_jobs, mailbox):
    with run_here(mail.DELIVER):
        mail.send_mail(TO, "Recebemos", "Chamado aberto.")
        db.session.commit()
    assert mail_jobs(app) == ([mail.DELIVER] if app.config.get("REDIS_URL") else [])
    run_jobs()
    assert [m["subject"] for m in mailbox.to(TO)] == ["Recebemos"]


@pytest.mark.usefixtures("ctx")
def test_other_jobs_are_queued_as_usual_inside_the_block(app, run_jobs, mailbox):
    with run_here("intake.tasks.drain_inbox"):
        mail.send_mail(TO, "Recebemos", "Chamado aberto.")
        db.session.commit()
        assert mail_jobs(app) == ([mail.DELIVER] if app.config.get("REDIS_URL") else [])
        assert run_held() == 0
    run_jobs()
    assert [m["subject"] for m in mailbox.to(TO)] == ["Recebemos"]

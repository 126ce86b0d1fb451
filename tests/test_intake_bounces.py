"""Delivery reports about our mail (issue 14): a permanent failure of an address a ticket
mail went to marks it dead for that reseller (the ticket says so, no more ticket mail
goes to it, staff may try it again); a transient one is only told; a report about a
mail we never sent, or naming addresses that mail did not go to, silences nobody; a
login code still reaches a dead address."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from core.extensions import db
from core.mail import clear_undeliverable, mark_undeliverable, send_mail, undeliverable
from desk.states import EventType
from intake.states import IntakeOutcome
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import SENDER, deliver
from tests.test_intake_threading import anas_ticket, events, headers, staff_reply

desk_a = processing_tests.desk_a
ana = processing_tests.ana


def bounce_of(sent_raw: bytes, address: str, status: str = "5.1.1") -> bytes:
    """A delivery-status report (RFC 3464) about the mail ``sent_raw``, as Postfix writes it."""
    original_id = headers(sent_raw)["Message-ID"]
    action = "failed" if status.startswith("5") else "delayed"
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.cliente.test>
To: no-reply@localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-{status}-{original_id.strip("<>")}@mx.cliente.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.cliente.test

Final-Recipient: rfc822; {address}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{address}>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

Message-ID: {original_id}
To: {address}

--B--
""".replace("\n", "\r\n").encode()


def bounced_reply(app, run_jobs, mailbox, factory, tenants, desk, ana, status="5.1.1"):
    """A staff reply to Ana's ticket, and the processed bounce of its mail to her."""
    ticket = anas_ticket(factory, tenants.a.client.id, desk.id, ana)
    staff_reply(run_jobs, ticket.id)
    [ours] = mailbox.to(SENDER)
    return ticket, deliver(app, run_jobs, bounce_of(ours["raw"], SENDER, status=status))


@pytest.mark.usefixtures("ctx")
def test_a_bounce_of_our_mail_marks_the_address_dead_and_stops_mail_to_it(
    app, run_jobs, mailbox, factory, tenants, desk_a, ana
):
    ticket, row = bounced_reply(app, run_jobs, mailbox, factory, tenants, desk_a, ana)
    assert row.outcome == IntakeOutcome.BOUNCE and row.reseller_id == tenants.a.id
    assert row.ticket_id == ticket.id
    dead = undeliverable(tenants.a.id, [SENDER])[SENDER]
    assert dead.status == "5.1.1" and "Recipient address rejected" in dead.diagnostic
    [event] = events(ticket.id, EventType.MAIL_BOUNCE)
    assert event.event["after"]["address"] == SENDER and event.event["after"]["permanent"]
    mailbox.clear()
    staff_reply(run_jobs, ticket.id, body="Conseguiu?")
    assert mailbox.to(SENDER) == []  # no more mail to a dead address
    assert undeliverable(tenants.b.id, [SENDER]) == {}  # another reseller still writes to it
    assert clear_undeliverable(tenants.a.id, SENDER)
    db.session.commit()
    staff_reply(run_jobs, ticket.id, body="Tentando de novo.")
    assert len(mailbox.to(SENDER)) == 1


@pytest.mark.usefixtures("ctx")
def test_a_report_about_addresses_our_mail_did_not_go_to_silences_nobody(
    app, run_jobs, mailbox, factory, tenants, desk_a, ana
):
    ticket = anas_ticket(factory, tenants.a.client.id, desk_a.id, ana)
    staff_reply(run_jobs, ticket.id)
    [ours] = mailbox.to(SENDER)
    row = deliver(app, run_jobs, bounce_of(ours["raw"], "owner@a.test"))  # a real Message-ID, another address
    assert row.outcome == IntakeOutcome.IGNORED_AUTOMATIC and row.reseller_id is None
    assert undeliverable(tenants.a.id, ["owner@a.test"]) == {}
    assert events(ticket.id, EventType.MAIL_BOUNCE) == []


@pytest.mark.usefixtures("ctx")
def test_a_login_code_or_invitation_still_goes_to_a_dead_address(app, run_jobs, mailbox, tenants, ana):
    mark_undeliverable(tenants.a.id, SENDER, "5.1.1", "user unknown")
    db.session.commit()
    send_mail(SENDER, "Código de acesso", "123456", reseller_id=tenants.a.id)  # no thread, a person's
    send_mail(SENDER, "[#1] Aviso", "texto", reseller_id=tenants.a.id, thread="ticket:1")
    db.session.commit()
    run_jobs()
    assert [m["subject"] for m in mailbox.to(SENDER)] == ["Código de acesso"]


@pytest.mark.usefixtures("ctx")
def test_a_transient_failure_is_recorded_but_the_address_stays_alive(
    app, run_jobs, mailbox, factory, tenants, desk_a, ana
):
    ticket, row = bounced_reply(app, run_jobs, mailbox, factory, tenants, desk_a, ana, status="4.2.2")
    assert row.outcome == IntakeOutcome.BOUNCE
    assert undeliverable(tenants.a.id, [SENDER]) == {}
    assert len(events(ticket.id, EventType.MAIL_BOUNCE)) == 1


@pytest.mark.usefixtures("ctx")
def test_a_forged_bounce_about_no_mail_we_sent_silences_nobody(app, run_jobs, tenants, ana):
    fake = EmailMessage()
    fake["Message-ID"] = "<never-sent@localhost.invalid>"
    row = deliver(app, run_jobs, bounce_of(fake.as_bytes(), SENDER))
    assert row.outcome == IntakeOutcome.IGNORED_AUTOMATIC and row.reseller_id is None
    assert undeliverable(tenants.a.id, [SENDER]) == {}

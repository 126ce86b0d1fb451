"""Threading and loop protection of e-mail (issue 14): a ticket mail carries a signed
reply address, its Message-ID and a body marker, and the answer lands on its ticket by
any one of them (not by a tampered one, nor for a sender outside the ticket's client,
nor across resellers); machines' mail never opens a ticket nor gets an answer; an
out-of-office note is recorded without reopening; a bounce about a mail we sent marks
the address dead and no more mail goes to it; one sender is held to 50 a minute."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from auth.models import STAFF, Account
from core.extensions import db
from core.models import ThreadMessage
from core.timeutil import utcnow
from desk.mail_markers import body_marker_text, reply_address
from desk.replies import public_reply
from desk.states import EntryKind, EventType, StatusKind
from desk.statuses import default_status
from desk.ticket_changes import change_status
from desk.ticket_models import Ticket, TicketEntry
from intake import processing
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import DESK_ADDRESS, SENDER, deliver, mail, tickets_of

SECRET = "testing-only-secret-key"
# The same desk (suporte@a.test, serving client A) and user (Ana) as the processing tests.
desk_a = processing_tests.desk_a
ana = processing_tests.ana


def anas_ticket(factory, client_id: int, desk_id: int, ana, kind=StatusKind.OPEN) -> Ticket:
    """A ticket of the client asked by Ana (staff mail about it goes to her)."""
    made = factory.ticket(client_id, desk_id=desk_id, kind=kind)
    ticket = db.session.get(Ticket, made.id)
    ticket.requester_account_id = ana.id
    db.session.commit()
    return ticket


def headers(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def owner_of(reseller_id: int) -> Account:
    return db.session.scalar(
        select(Account).where(Account.reseller_id == reseller_id, Account.kind == STAFF).order_by(Account.id)
    )


def staff_reply(run_jobs, ticket_id: int, body="Reinicie o roteador, por favor.") -> TicketEntry:
    ticket = db.session.get(Ticket, ticket_id)
    entry = public_reply(ticket, body, owner_of(ticket.reseller_id))
    db.session.commit()
    run_jobs()
    return entry


def answer(to_mail: dict, *, body="Reiniciei e voltou.", to=None, keep=("reply_to", "in_reply_to", "body")):
    """The client's answer to one of our mails, keeping only the threading clues named."""
    ours = headers(to_mail["raw"])
    quoted = "\n".join(f"> {line}" for line in to_mail["text"].splitlines())
    text = f"{body}\n\nEm ter., 1 de dez. de 2026 às 10:00, Suporte <no-reply@localhost> escreveu:\n{quoted}"
    message = EmailMessage()
    message["From"] = f"Ana <{SENDER}>"
    message["To"] = to or (str(ours["Reply-To"]) if "reply_to" in keep else DESK_ADDRESS)
    message["Subject"] = "Re: assunto reescrito pelo programa"
    message["Message-ID"] = f"<answer-{utcnow().timestamp()}@cliente.test>"
    if "in_reply_to" in keep:
        message["In-Reply-To"] = str(ours["Message-ID"])
        message["References"] = str(ours["Message-ID"])
    message.set_content(text if "body" in keep else body)
    return message.as_bytes()


def replies(ticket_id: int) -> list[TicketEntry]:
    return list(
        db.session.scalars(
            select(TicketEntry)
            .where(TicketEntry.ticket_id == ticket_id, TicketEntry.kind == EntryKind.PUBLIC_REPLY)
            .order_by(TicketEntry.id)
        )
    )


def events(ticket_id: int, kind: EventType) -> list[TicketEntry]:
    entries = db.session.scalars(
        select(TicketEntry).where(TicketEntry.ticket_id == ticket_id, TicketEntry.kind == EntryKind.EVENT)
    )
    return [e for e in entries if e.event["type"] == kind]


@pytest.mark.usefixtures("ctx")
def test_a_ticket_opened_by_mail_is_acknowledged_on_its_thread_and_the_answer_lands_on_it(
    app, run_jobs, mailbox, tenants, ana
):
    row = deliver(app, run_jobs, mail(message_id="<first@cliente.test>"))
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    [ack] = mailbox.to(SENDER)
    raw = headers(ack["raw"])
    ticket = db.session.get(Ticket, row.ticket_id)
    assert ack["subject"] == f"[#{ticket.number}] Impressora parada"
    assert ack["reply_to"] == reply_address(ticket.id, SECRET, "a.test")
    assert raw["In-Reply-To"] == "<first@cliente.test>"
    assert "<first@cliente.test>" in raw["References"]
    assert raw["Auto-Submitted"] == "auto-generated"
    assert ack["text"].rstrip().endswith(body_marker_text(ticket.id, SECRET))
    assert f"<!-- {body_marker_text(ticket.id, SECRET)} -->" in ack["html"]

    reply = deliver(app, run_jobs, answer(ack))
    assert reply.outcome == IntakeOutcome.REPLY_ADDED and reply.ticket_id == ticket.id
    [entry] = replies(ticket.id)
    assert entry.body == "Reiniciei e voltou."  # the quoted history trimmed away
    assert entry.author_account_id == ana.id and reply.entry_id == entry.id
    assert len(tickets_of(tenants.a.client.id)) == 1
    assert len(mailbox.to(SENDER)) == 1  # a reply is not acknowledged


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("clue", ["reply_to", "in_reply_to", "body"])
def test_any_one_clue_alone_threads_the_answer(app, run_jobs, mailbox, factory, tenants, desk_a, ana, clue):
    ticket = anas_ticket(factory, tenants.a.client.id, desk_a.id, ana)
    staff_reply(run_jobs, ticket.id)
    [ours] = mailbox.to(SENDER)
    row = deliver(app, run_jobs, answer(ours, keep=(clue,)))
    assert (row.outcome, row.ticket_id) == (IntakeOutcome.REPLY_ADDED, ticket.id)
    assert [e.body for e in replies(ticket.id)][-1] == "Reiniciei e voltou."


@pytest.mark.usefixtures("ctx")
def test_staff_mail_threads_under_the_clients_first_message(app, run_jobs, mailbox, tenants, ana):
    row = deliver(app, run_jobs, mail(message_id="<root@cliente.test>"))
    mailbox.clear()
    staff_reply(run_jobs, row.ticket_id)
    [ours] = mailbox.to(SENDER)
    raw = headers(ours["raw"])
    assert raw["References"].split()[0] == "<root@cliente.test>"
    assert raw["Auto-Submitted"] is None  # a person wrote it
    sent = db.session.scalar(select(ThreadMessage).where(ThreadMessage.message_id == raw["Message-ID"]))
    assert sent.thread == f"ticket:{row.ticket_id}" and not sent.inbound


@pytest.mark.usefixtures("ctx")
def test_a_tampered_reply_address_threads_nothing(app, run_jobs, factory, tenants, desk_a, ana):
    ticket = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    forged = reply_address(ticket.id, "another secret", "a.test")
    row = deliver(
        app, run_jobs, mail(to=f"{forged}, {DESK_ADDRESS}", body=f"ref:{ticket.id}-aaaaaaaaaaaaaaaa")
    )
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.ticket_id != ticket.id
    assert replies(ticket.id) == []


@pytest.mark.usefixtures("ctx")
def test_a_sender_outside_the_tickets_client_never_writes_on_it(
    app, run_jobs, mailbox, factory, tenants, desk_a, ana
):
    other = factory.client(tenants.a.id, plan_id=tenants.a.plan.id, payment_status="paid", trade_name="Outro")
    theirs = factory.ticket(other.id, desk_id=desk_a.id)
    address = reply_address(theirs.id, SECRET, "a.test")
    row = deliver(
        app, run_jobs, mail(to=f"{address}, {DESK_ADDRESS}", body=body_marker_text(theirs.id, SECRET))
    )
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.ticket_id != theirs.id
    assert replies(theirs.id) == []
    assert db.session.get(Ticket, row.ticket_id).client_id == tenants.a.client.id


@pytest.mark.usefixtures("ctx")
def test_another_resellers_ticket_is_never_reached_through_this_resellers_desk(
    app, run_jobs, factory, tenants, desk_a, ana
):
    desk_b = factory.desk(tenants.b.id, client_ids=[tenants.b.client.id], intake_email="suporte@b.test")
    theirs = factory.ticket(tenants.b.client.id, desk_id=desk_b.id)
    row = deliver(app, run_jobs, mail(to=DESK_ADDRESS, body=body_marker_text(theirs.id, SECRET)))
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.reseller_id == tenants.a.id
    assert replies(theirs.id) == []


@pytest.mark.usefixtures("ctx")
def test_an_out_of_office_note_is_recorded_without_reopening_or_answering(
    app, run_jobs, mailbox, factory, tenants, desk_a, ana
):
    ticket = anas_ticket(factory, tenants.a.client.id, desk_a.id, ana, kind=StatusKind.WAITING_ON_CLIENT)
    staff_reply(run_jobs, ticket.id)
    [ours] = mailbox.to(SENDER)
    mailbox.clear()
    note = headers(answer(ours, body="Estou de férias até dia 10."))
    note.replace_header("Subject", "Resposta automática: Re: Help")
    note["Auto-Submitted"] = "auto-replied"
    row = deliver(app, run_jobs, note.as_bytes())
    assert row.outcome == IntakeOutcome.AUTO_REPLY and row.ticket_id == ticket.id
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status_kind == StatusKind.WAITING_ON_CLIENT
    assert replies(ticket.id)[-1].author_account_id != ana.id  # only the staff reply
    assert len(events(ticket.id, EventType.MAIL_AUTO_REPLY)) == 1
    assert mailbox.messages == []


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    ("header", "value"),
    [("Auto-Submitted", "auto-generated"), ("Precedence", "bulk"), ("List-Unsubscribe", "<mailto:x@l.test>")],
)
def test_a_known_users_automatic_message_opens_a_ticket_but_gets_no_answer(
    app, run_jobs, mailbox, tenants, ana, header, value
):
    message = headers(mail())
    message[header] = value
    row = deliver(app, run_jobs, message.as_bytes())
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    assert mailbox.messages == []


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    "sender", ["mailer-daemon@cliente.test", "no-reply@cliente.test", "postmaster@cliente.test"]
)
def test_a_robot_sender_opens_nothing(app, run_jobs, mailbox, tenants, ana, sender):
    row = deliver(app, run_jobs, mail(sender=sender))
    assert row.outcome == IntakeOutcome.IGNORED_AUTOMATIC
    assert tickets_of(tenants.a.client.id) == [] and mailbox.messages == []


@pytest.mark.usefixtures("ctx")
def test_our_own_mail_coming_back_opens_nothing(app, run_jobs, mailbox, tenants, ana):
    row = deliver(app, run_jobs, mail(message_id="<loop.1@localhost>"))
    assert row.outcome == IntakeOutcome.IGNORED_AUTOMATIC
    assert tickets_of(tenants.a.client.id) == [] and mailbox.messages == []


@pytest.mark.usefixtures("ctx")
def test_an_automatic_message_from_a_stranger_is_ignored_not_left_for_review(app, run_jobs, tenants, ana):
    message = headers(mail(sender="news@loja.test"))
    message["Precedence"] = "list"
    assert deliver(app, run_jobs, message.as_bytes()).outcome == IntakeOutcome.IGNORED_AUTOMATIC


@pytest.mark.usefixtures("ctx")
def test_one_sender_is_held_to_fifty_messages_a_minute(app, run_jobs, tenants, ana):
    now = utcnow()
    db.session.add_all(
        InboundMessage(
            storage_key=f"intake/earlier/{n}",
            size=1,
            sha256=f"{n:064d}",
            received_via=ReceivedVia.SMTP,
            sender=SENDER,
            received_at=now,
            processed_at=now,
            outcome=IntakeOutcome.TICKET_OPENED,
        )
        for n in range(processing.SENDER_PER_MINUTE)
    )
    db.session.commit()
    row = deliver(app, run_jobs, mail())
    assert row.outcome == IntakeOutcome.RATE_LIMITED and tickets_of(tenants.a.client.id) == []
    other = deliver(app, run_jobs, mail(sender="bia@cliente.test", message_id="<m2@x>"))
    assert other.outcome != IntakeOutcome.RATE_LIMITED


@pytest.mark.usefixtures("ctx")
def test_an_unknown_address_of_the_resellers_domain_goes_to_its_default_desk(
    app, run_jobs, factory, tenants, desk_a, ana
):
    fallback = factory.desk(
        tenants.a.id,
        name="Geral",
        client_ids=[tenants.a.client.id],
        intake_email="geral@a.test",
        mail_default=True,
    )
    row = deliver(app, run_jobs, mail(to="contato@a.test"))
    assert (row.outcome, row.desk_id) == (IntakeOutcome.TICKET_OPENED, fallback.id)
    assert deliver(app, run_jobs, mail(to="x@elsewhere.test", message_id="<m3@x>")).outcome == (
        IntakeOutcome.UNROUTABLE
    )


@pytest.mark.usefixtures("ctx")
def test_an_answer_to_a_merged_ticket_lands_on_the_one_it_was_merged_into(
    app, run_jobs, factory, tenants, desk_a, ana
):
    survivor = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    merged = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    row_ticket = db.session.get(Ticket, merged.id)
    row_ticket.status_kind, row_ticket.merged_into_id = StatusKind.MERGED, survivor.id
    db.session.commit()
    row = deliver(app, run_jobs, mail(body=body_marker_text(merged.id, SECRET)))
    assert (row.outcome, row.ticket_id) == (IntakeOutcome.REPLY_ADDED, survivor.id)


@pytest.mark.usefixtures("ctx")
def test_an_answer_to_a_ticket_closed_beyond_its_reopen_window_opens_a_new_one(
    app, run_jobs, factory, tenants, desk_a, ana
):
    old = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    ticket = db.session.get(Ticket, old.id)
    change_status(ticket, default_status(tenants.a.id, StatusKind.CLOSED))
    ticket.closed_at = ticket.resolved_at = utcnow().replace(year=utcnow().year - 1)
    db.session.commit()
    row = deliver(app, run_jobs, mail(body=body_marker_text(old.id, SECRET)))
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.ticket_id != old.id
    assert replies(old.id) == []


@pytest.mark.usefixtures("ctx")
def test_a_body_in_an_unknown_charset_is_read_as_latin1(app, run_jobs, tenants, ana):
    raw = mail(body="x").replace(b'charset="utf-8"', b'charset="x-unknown-9"')
    raw = raw.replace(b"\nx\n", b"\nsem acentua\xe7\xe3o\n")
    row = deliver(app, run_jobs, raw)
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    assert db.session.get(Ticket, row.ticket_id).description == "sem acentuação"


@pytest.mark.usefixtures("ctx")
def test_a_tickets_reply_address_decides_the_reseller_before_any_desk_address(
    app, run_jobs, factory, tenants, desk_a, ana
):
    factory.desk(
        tenants.b.id, name="Suporte B", client_ids=[tenants.b.client.id], intake_email="suporte@b.test"
    )
    ticket = anas_ticket(factory, tenants.a.client.id, desk_a.id, ana)
    address = reply_address(ticket.id, SECRET, "a.test")
    row = deliver(app, run_jobs, mail(to=f"suporte@b.test, {address}", body="Segue a resposta."))
    assert (row.outcome, row.reseller_id, row.ticket_id) == (
        IntakeOutcome.REPLY_ADDED,
        tenants.a.id,
        ticket.id,
    )

"""Processing a stored message (issue 14, ``intake.tasks.process_message``): routed by
recipient to a desk, a known sender's message opens a ticket (text body, HTML-only as
plain text, attachments) or, naming a ticket of their client, adds their reply; the same
message twice is a duplicate; unknown recipient or sender are recorded as such; and
another reseller's desk address never brings a message to this reseller."""

from __future__ import annotations

import io
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auth.models import Account
from core.extensions import db
from core.models import Reseller
from core.storage import get_storage
from core.timeutil import utcnow
from desk.desks import DeskData, create_desk
from desk.errors import DeskRejected
from desk.replies import public_reply
from desk.states import EntryKind
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry
from desk.tickets import written_by
from intake import inbox, processing, tasks
from intake.models import InboundMessage
from intake.states import IntakeOutcome, ReceivedVia
from tenant.models import Client

DESK_ADDRESS = "suporte@a.test"
SENDER = "ana@cliente.test"


@pytest.fixture
def desk_a(factory, tenants):
    return factory.desk(
        tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id], intake_email=DESK_ADDRESS
    )


@pytest.fixture
def ana(factory, tenants, desk_a):
    return factory.user(tenants.a.client.id, email=SENDER, name="Ana")


def mail(
    subject="Impressora parada",
    body="A impressora parou de novo.",
    *,
    sender=SENDER,
    to=DESK_ADDRESS,
    message_id="<m1@cliente.test>",
    html=None,
    files=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ana <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for name, content in files:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


def deliver(app, run_jobs, raw: bytes, *, recipients=()) -> InboundMessage:
    """Store ``raw`` as the SMTP listener does, let its job run (in-process, or RQ in the
    Redis suite), and return the row; processing again is a no-op."""
    with app.app_context():
        row_id = inbox.store(io.BytesIO(raw), via=ReceivedVia.SMTP, envelope_recipients=recipients)
    run_jobs()
    with app.app_context():
        again = processing.process(row_id)
        assert again == processing.ALREADY_PROCESSED or again in set(IntakeOutcome)
        row = db.session.get(InboundMessage, row_id)
        db.session.expunge(row)
        return row


def tickets_of(client_id) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.client_id == client_id).order_by(Ticket.id)))


@pytest.mark.usefixtures("ctx")
def test_a_known_sender_writing_to_a_desk_opens_a_ticket_with_its_attachment(
    app, run_jobs, tenants, desk_a, ana
):
    row = deliver(
        app, run_jobs, mail(files=[("nota.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")])
    )
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    assert (row.reseller_id, row.desk_id) == (tenants.a.id, desk_a.id)
    [ticket] = tickets_of(tenants.a.client.id)
    assert row.ticket_id == ticket.id
    assert ticket.subject == "Impressora parada"
    assert ticket.description == "A impressora parou de novo."
    assert ticket.requester_account_id == ana.id and ticket.desk_id == desk_a.id
    created = db.session.scalar(select(TicketEntry).where(TicketEntry.ticket_id == ticket.id))
    assert created.author_account_id == ana.id
    [attachment] = db.session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id))
    assert attachment.filename == "nota.pdf"
    with get_storage().open(attachment.storage_key) as stored:
        assert stored.read().startswith(b"%PDF-1.4")


@pytest.mark.usefixtures("ctx")
def test_an_html_only_message_becomes_plain_text(app, run_jobs, tenants, ana):
    html = (
        "<html><head><style>p{}</style></head><body><p>Olá &amp; bom dia</p><div>Sem rede</div></body></html>"
    )
    row = deliver(app, run_jobs, mail(html=html))
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    [ticket] = tickets_of(tenants.a.client.id)
    assert ticket.description == "Olá & bom dia\n\nSem rede"


@pytest.mark.usefixtures("ctx")
def test_the_same_message_twice_opens_one_ticket(app, run_jobs, tenants, ana):
    first = deliver(app, run_jobs, mail())
    second = deliver(app, run_jobs, mail(body="the same Message-ID, retried"))
    assert (first.outcome, second.outcome) == (IntakeOutcome.TICKET_OPENED, IntakeOutcome.DUPLICATE)
    assert second.message_id == "<m1@cliente.test>" and second.ticket_id is None
    assert len(tickets_of(tenants.a.client.id)) == 1


@pytest.mark.usefixtures("ctx")
def test_without_a_message_id_the_digest_of_the_bytes_is_the_identity(app, run_jobs, tenants, ana):
    raw = mail(message_id=None)
    outcomes = [deliver(app, run_jobs, raw).outcome for _ in range(2)]
    other = deliver(app, run_jobs, mail(message_id=None, subject="Outro assunto")).outcome
    assert outcomes == [IntakeOutcome.TICKET_OPENED, IntakeOutcome.DUPLICATE]
    assert other == IntakeOutcome.TICKET_OPENED
    assert len(tickets_of(tenants.a.client.id)) == 2


@pytest.mark.usefixtures("ctx")
def test_a_subject_naming_a_ticket_of_the_client_adds_the_users_reply(
    app, run_jobs, factory, tenants, desk_a, ana
):
    ticket = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    row = deliver(
        app,
        run_jobs,
        mail(subject=f"Re: Help [#{ticket.number}]", body="Voltou a falhar.", message_id="<r1@x>"),
    )
    assert row.outcome == IntakeOutcome.REPLY_ADDED and row.ticket_id == ticket.id
    reply = db.session.scalar(
        select(TicketEntry).where(
            TicketEntry.ticket_id == ticket.id, TicketEntry.kind == EntryKind.PUBLIC_REPLY
        )
    )
    assert reply.body == "Voltou a falhar." and reply.author_account_id == ana.id
    assert len(tickets_of(tenants.a.client.id)) == 1


@pytest.mark.usefixtures("ctx")
def test_a_subject_naming_another_clients_ticket_opens_a_new_ticket(
    app, run_jobs, factory, tenants, desk_a, ana
):
    other = factory.client(tenants.a.id, plan_id=tenants.a.plan.id, payment_status="paid", trade_name="Outro")
    theirs = factory.ticket(other.id, desk_id=desk_a.id)
    row = deliver(app, run_jobs, mail(subject=f"Re: [#{theirs.number}]", message_id="<r2@x>"))
    assert row.outcome == IntakeOutcome.TICKET_OPENED and row.ticket_id != theirs.id
    entries = db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == theirs.id)).all()
    assert all(entry.kind != EntryKind.PUBLIC_REPLY for entry in entries)


@pytest.mark.usefixtures("ctx")
def test_no_desk_among_the_recipients_is_unroutable(app, run_jobs, tenants, ana):
    row = deliver(app, run_jobs, mail(to="ninguem@a.test"), recipients=["outro@a.test"])
    assert row.outcome == IntakeOutcome.UNROUTABLE and row.reseller_id is None
    assert tickets_of(tenants.a.client.id) == []


@pytest.mark.usefixtures("ctx")
def test_the_envelope_recipient_routes_a_message_whose_headers_do_not(app, run_jobs, tenants, ana):
    row = deliver(app, run_jobs, mail(to="lista@cliente.test"), recipients=[DESK_ADDRESS])
    assert row.outcome == IntakeOutcome.TICKET_OPENED


@pytest.mark.usefixtures("ctx")
def test_an_unknown_sender_is_recorded_and_opens_nothing_when_mail_creates_no_clients(
    app, run_jobs, tenants, ana
):
    db.session.get(Reseller, tenants.a.id).mail_creates_clients = False
    db.session.commit()
    row = deliver(app, run_jobs, mail(sender="estranho@outro.test"))
    assert row.outcome == IntakeOutcome.UNKNOWN_SENDER and row.reseller_id == tenants.a.id
    assert tickets_of(tenants.a.client.id) == []


@pytest.mark.usefixtures("ctx")
def test_an_inactive_user_is_an_unknown_sender(app, run_jobs, tenants, ana):
    db.session.get(Account, ana.id).active = False
    db.session.commit()
    assert deliver(app, run_jobs, mail()).outcome == IntakeOutcome.UNKNOWN_SENDER


@pytest.mark.usefixtures("ctx")
def test_another_resellers_desk_address_never_routes_to_this_reseller(app, run_jobs, factory, tenants, ana):
    desk_b = factory.desk(
        tenants.b.id, name="Suporte B", client_ids=[tenants.b.client.id], intake_email="suporte@b.test"
    )
    row = deliver(app, run_jobs, mail(to="suporte@b.test"))
    # A's user writing to B's address is a stranger to B (a client of B is made for
    # them); nothing reaches A.
    assert (row.outcome, row.reseller_id, row.desk_id) == (
        IntakeOutcome.TICKET_OPENED,
        tenants.b.id,
        desk_b.id,
    )
    ticket = db.session.get(Ticket, row.ticket_id)
    made = db.session.get(Client, ticket.client_id)
    assert made.reseller_id == tenants.b.id and made.created_by_email
    assert tickets_of(tenants.a.client.id) == []


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    "address",
    [
        DESK_ADDRESS,  # A's address
        "vendas@a.test",  # A's domain
        "suporte@gmail.com",  # public webmail
        "suporte@mail.plataforma.test",  # MAIL_FROM's domain
        "suporte@respostas.plataforma.test",  # MAIL_REPLY_DOMAIN
    ],
)
def test_a_desk_never_receives_at_another_resellers_domain_webmail_or_ours(
    app, factory, tenants, desk_a, monkeypatch, address
):
    """Two resellers answering one address (or domain) would each steal or block the
    other's mail: the first to use a domain keeps it, and the unique index backs it."""
    monkeypatch.setitem(app.config, "MAIL_FROM", "no-reply@mail.plataforma.test")
    monkeypatch.setitem(app.config, "MAIL_REPLY_DOMAIN", "respostas.plataforma.test")
    with pytest.raises(DeskRejected) as refused:
        create_desk(tenants.b.id, DeskData(name="Suporte B", intake_email=address))
    assert address.split("@")[1] in refused.value.errors["intake_email"]
    db.session.rollback()
    with pytest.raises(IntegrityError):  # the database refuses the same address too
        factory.desk(tenants.b.id, name="Suporte B", intake_email=DESK_ADDRESS)


@pytest.mark.usefixtures("ctx")
def test_a_message_nested_deeper_than_any_mail_program_writes_is_refused_once(app, run_jobs, tenants, ana):
    head = mail().split(b"\n\n", 1)[0].replace(b"text/plain", b"multipart/mixed")
    parts = b"".join(
        b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (n, n + 1) for n in range(2000)
    )
    raw = head.split(b"Content-Type")[0] + b'Content-Type: multipart/mixed; boundary="b0"\n\n' + parts
    row = deliver(app, run_jobs, raw)
    assert row.outcome == IntakeOutcome.UNREADABLE and row.attempts == 1
    assert "too deeply" in row.last_error


@pytest.mark.usefixtures("ctx")
def test_the_sweep_processes_a_message_whose_job_was_lost(app, tenants, ana):
    raw = mail(message_id="<lost@x>")
    key = "intake/lost/raw"
    get_storage().put(key, io.BytesIO(raw), "message/rfc822")
    row = InboundMessage(
        storage_key=key,
        size=len(raw),
        sha256="1" * 64,
        received_via=ReceivedVia.WEBHOOK,
        envelope_recipients=[],
        received_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add(row)
    db.session.commit()  # no job queued: as if Redis had been down
    assert tasks.sweep_inbox() >= 1
    db.session.expire_all()
    assert db.session.get(InboundMessage, row.id).outcome == IntakeOutcome.TICKET_OPENED


@pytest.mark.usefixtures("ctx")
def test_a_reply_written_outside_a_request_is_the_named_users(factory, tenants, desk_a, ana):
    """desk.tickets.written_by: a client's reply from a job (e-mail) is authored by that user."""
    ticket = db.session.get(Ticket, factory.ticket(tenants.a.client.id, desk_id=desk_a.id).id)
    account = db.session.get(Account, ana.id)
    unnamed = public_reply(ticket, "sem autor", account)
    with written_by(ana.id):
        named = public_reply(ticket, "com autor", account)
    assert unnamed.author_account_id is None
    assert named.author_account_id == ana.id


@pytest.mark.usefixtures("ctx")
def test_a_message_whose_stored_bytes_are_gone_is_unreadable_and_closed(app, tenants, ana):
    row = InboundMessage(
        storage_key="intake/gone/raw",
        size=1,
        sha256="2" * 64,
        received_via=ReceivedVia.WEBHOOK,
        envelope_recipients=[DESK_ADDRESS],
    )
    db.session.add(row)
    db.session.commit()
    assert processing.process(row.id) == IntakeOutcome.UNREADABLE
    assert processing.process(row.id) == processing.ALREADY_PROCESSED
    db.session.expire_all()
    again = db.session.get(InboundMessage, row.id)
    assert again.processed_at is not None and again.last_error == "the stored message is missing"

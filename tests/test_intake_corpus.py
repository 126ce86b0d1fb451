"""The fixture corpus end to end (issue 14): every message of tests/mail/ stored, processed
and either threaded onto its ticket, opening one, recorded as a bounce, or ignored as a
machine's, exactly as expected, with no quoted history, marker or signature left in a
stored reply.

The corpus was written for tickets 1234, 1240 and 1251 under another secret; each message
is re-signed for this test's tickets (same shape, this app's secret and ids), and the
Message-IDs our mails had (``<ticket-1234...@mail.atende.example>``) are put in the mail
ledger as sent on those tickets' threads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.extensions import db
from core.mail import recipient_key, undeliverable
from core.models import ThreadMessage
from desk.mail_markers import ticket_token
from desk.states import EntryKind, EventType
from desk.ticket_models import TicketEntry
from intake.states import IntakeOutcome
from tests.test_intake_processing import deliver

CORPUS = Path(__file__).parent / "mail"
DESK_ADDRESS = "suporte@acme.example"
SENDERS = (
    "ana.souza@gmail.com",
    "mark.taylor@gmail.com",
    "carlos.lima@construtoralima.com.br",
    "j.miller@millerlogistics.com",
    "beatriz.rocha@icloud.com",
    "tom.h@me.com",
    "compras@mercadinhosol.com.br",
    "paulo.mendes@prefeitura.example.gov.br",
    "vendas@distribuidoraantiga.com.br",
    "fernanda@padariaboasorte.com.br",
    "rafael.costa@transportescosta.com.br",
)
# The addresses the corpus's delivery reports say "our" mails did not reach.
BOUNCED = ("joao.inexistente@gmail.com", "financeiro@empresa-lenta.example.com.br")
# The Message-IDs of "our" mails the corpus answers or bounces, by corpus ticket.
SENT = {
    1234: (
        "<ticket-1234.1795947120.8c1f@mail.atende.example>",
        "<ticket-1234.1796122920.5b7e@mail.atende.example>",
    ),
    1240: (
        "<ticket-1240.1795947120.77aa@mail.atende.example>",
        "<ticket-1240.1796122240.0c9d@mail.atende.example>",
    ),
    1251: ("<ticket-1251.1795950000.19de@mail.atende.example>",),
}
REPLY = IntakeOutcome.REPLY_ADDED
EXPECTED = {
    "gmail_reply_pt.eml": (REPLY, 1234),
    "gmail_reply_en.eml": (REPLY, 1240),
    "outlook_reply_pt.eml": (REPLY, 1234),
    "outlook_reply_en.eml": (REPLY, 1240),
    "apple_reply_pt.eml": (REPLY, 1251),
    "apple_reply_en.eml": (REPLY, 1251),
    "html_only.eml": (REPLY, 1251),
    "rewritten_subject.eml": (REPLY, 1234),
    "broken_encoding.eml": (REPLY, 1240),
    "forward_pt.eml": (IntakeOutcome.TICKET_OPENED, None),
    "out_of_office.eml": (IntakeOutcome.AUTO_REPLY, 1234),
    "dsn_bounce.eml": (IntakeOutcome.BOUNCE, 1234),
    "dsn_delayed.eml": (IntakeOutcome.BOUNCE, 1240),
    "auto_reply.eml": (IntakeOutcome.IGNORED_AUTOMATIC, None),
    "list_mail.eml": (IntakeOutcome.IGNORED_AUTOMATIC, None),
    "own_message.eml": (IntakeOutcome.IGNORED_AUTOMATIC, None),
}
QUOTED_HISTORY = re.compile(
    r"^>|escreveu:|wrote:|Original Message|Mensagem original|^De: |^From: |ref:", re.M
)


def test_every_message_of_the_corpus_is_listed():
    assert {path.name for path in CORPUS.glob("*.eml")} == set(EXPECTED)


@pytest.fixture
def corpus_world(app, factory, tenants, monkeypatch):
    """Reseller A's desk at the corpus's address, every corpus sender a user of its
    client, and three tickets standing for the corpus's 1234, 1240 and 1251."""
    monkeypatch.setitem(app.config, "MAIL_FROM", "no-reply@mail.atende.example")
    monkeypatch.setitem(app.config, "MAIL_REPLY_DOMAIN", "mail.atende.example")
    client_id = tenants.a.client.id
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[client_id], intake_email=DESK_ADDRESS)
    for email in SENDERS:
        factory.user(client_id, email=email)
    tickets = {number: factory.ticket(client_id, desk_id=desk.id) for number in SENT}
    with app.app_context():
        for number, message_ids in SENT.items():
            db.session.add_all(
                ThreadMessage(
                    reseller_id=tenants.a.id,
                    message_id=m,
                    thread=f"ticket:{tickets[number].id}",
                    recipient_keys=[recipient_key(a) for a in BOUNCED],
                )
                for m in message_ids
            )
        db.session.commit()
    return tickets


def resigned(raw: bytes, tickets: dict, secret: str) -> bytes:
    """The corpus message with its markers made for this test's tickets."""

    def token(match: re.Match) -> bytes:
        ticket = tickets.get(int(match.group(1)))
        return ticket_token(ticket.id, secret).encode() if ticket else match.group(0)

    def number(match: re.Match) -> bytes:
        ticket = tickets.get(int(match.group(1)))
        return f"[#{ticket.number}]".encode() if ticket else match.group(0)

    raw = re.sub(rb"\b(\d{4})-[a-z2-7]{16}\b", token, raw)
    return re.sub(rb"\[#(\d{4})\]", number, raw)


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_message_threads_or_is_refused_as_expected(app, run_jobs, corpus_world, name):
    tickets = corpus_world
    raw = resigned((CORPUS / name).read_bytes(), tickets, app.config["SECRET_KEY"])
    row = deliver(app, run_jobs, raw)
    outcome, corpus_ticket = EXPECTED[name]
    assert row.outcome == outcome, (row.outcome, row.last_error)
    if corpus_ticket is not None:
        assert row.ticket_id == tickets[corpus_ticket].id
    if outcome == REPLY:
        entry = db.session.get(TicketEntry, row.entry_id)
        assert entry.kind == EntryKind.PUBLIC_REPLY and entry.body.strip()
        assert not QUOTED_HISTORY.search(entry.body), entry.body
        assert "-- " not in entry.body.splitlines()
    if name == "forward_pt.eml":  # a forward is kept whole: what it forwards is the point
        ticket_entries = db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == row.ticket_id))
        assert list(ticket_entries)
    if name == "dsn_bounce.eml":
        assert undeliverable(row.reseller_id, ["joao.inexistente@gmail.com"])
    if name == "dsn_delayed.eml":
        assert not undeliverable(row.reseller_id, ["financeiro@empresa-lenta.example.com.br"])
    if name == "out_of_office.eml":
        kinds = [
            e.event["type"]
            for e in db.session.scalars(select(TicketEntry).where(TicketEntry.id == row.entry_id))
            if e.event
        ]
        assert kinds == [EventType.MAIL_AUTO_REPLY]

"""Mail from people the intake does not know (seed 003, issue 14): a sender at a known
client's domain becomes its user; an unknown company's sender creates the client (named
after the domain, its domain added, marked "criado por e-mail", the desk's staff told);
a webmail sender a client of their own; with creation turned off, or for somebody the
reseller knows already, the message waits; people in Cc at the client's domain become
its users and follow the ticket, at most 40 from one message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auth import permissions as perm
from auth.models import Account, Login
from core.extensions import db
from core.models import Reseller
from desk.models import DeskStaff
from desk.ticket_changes import followers
from desk.ticket_models import Ticket
from intake import strangers
from intake.states import IntakeOutcome
from tenant.domain_models import ClientDomain
from tenant.domains import add_domain
from tenant.models import Client
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import DESK_ADDRESS, SENDER, deliver, mail

desk_a = processing_tests.desk_a
ana = processing_tests.ana


@pytest.fixture
def known_domain(app, tenants, ana):
    """Client A owns cliente.test (Ana's domain)."""
    with app.app_context():
        add_domain(db.session.get(Client, tenants.a.client.id), "cliente.test", actor=None)
        db.session.commit()


@pytest.fixture
def desk_agent(app, factory, tenants, desk_a):
    """Staff who works the desk and manages clients: told of clients made by e-mail."""
    agent = factory.staff(tenants.a.id, permissions=[perm.DESKS, perm.CLIENTS], email="agente@a.test")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk_a.id, account_id=agent.id, reseller_id=tenants.a.id))
        db.session.commit()
    return agent


def clients_count(reseller_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Client).where(Client.reseller_id == reseller_id)
    )


@pytest.mark.usefixtures("ctx", "known_domain")
def test_a_sender_at_a_known_clients_domain_becomes_its_user(app, run_jobs, tenants, desk_a, ana):
    before = clients_count(tenants.a.id)
    row = deliver(app, run_jobs, mail(sender="bruno@cliente.test"))
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    ticket = db.session.get(Ticket, row.ticket_id)
    requester = db.session.get(Account, ticket.requester_account_id)
    assert requester.email == "bruno@cliente.test" and requester.client_id == tenants.a.client.id
    # Every new user's defaults (the portal, to follow the ticket): no other power.
    assert sorted(requester.permissions or []) == sorted(perm.DEFAULT_CLIENT_USER_PERMISSIONS)
    assert clients_count(tenants.a.id) == before


@pytest.mark.usefixtures("ctx")
def test_an_unknown_company_creates_its_client_and_the_staff_are_told(
    app, run_jobs, mailbox, tenants, desk_a, desk_agent
):
    row = deliver(app, run_jobs, mail(sender="carla@construtora-lima.com.br"))
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    ticket = db.session.get(Ticket, row.ticket_id)
    client = db.session.get(Client, ticket.client_id)
    assert client.trade_name == "Construtora Lima" and client.created_by_email and client.email_review_pending
    assert client.document == "" and client.document_type == "cnpj"
    responsible = db.session.get(Account, client.responsible_account_id)
    assert (
        responsible.email == "carla@construtora-lima.com.br" and ticket.requester_account_id == responsible.id
    )
    assert db.session.scalars(
        select(ClientDomain.domain).where(ClientDomain.client_id == client.id)
    ).all() == ["construtora-lima.com.br"]
    [notice] = mailbox.to("agente@a.test")
    assert "Construtora Lima" in notice["subject"] and f"#{ticket.number}" in notice["text"]
    assert len(mailbox.to("carla@construtora-lima.com.br")) == 1  # the acknowledgement
    # Her colleague's next message finds the client by its domain.
    again = deliver(app, run_jobs, mail(sender="davi@construtora-lima.com.br", message_id="<m2@x>"))
    assert db.session.get(Ticket, again.ticket_id).client_id == client.id


@pytest.mark.usefixtures("ctx")
def test_a_webmail_sender_gets_a_client_of_their_own_without_a_domain(app, run_jobs, tenants, desk_a):
    row = deliver(app, run_jobs, mail(sender="joana.silva@gmail.com"))
    client = db.session.get(Client, db.session.get(Ticket, row.ticket_id).client_id)
    assert client.trade_name == "Ana" and client.document_type == "cpf"  # the From's display name
    assert db.session.scalars(select(ClientDomain).where(ClientDomain.client_id == client.id)).all() == []


@pytest.mark.usefixtures("ctx")
def test_with_creation_off_the_message_waits_and_nothing_is_made(app, run_jobs, tenants, desk_a):
    db.session.get(Reseller, tenants.a.id).mail_creates_clients = False
    db.session.commit()
    before = clients_count(tenants.a.id)
    row = deliver(app, run_jobs, mail(sender="carla@construtora-lima.com.br"))
    assert row.outcome == IntakeOutcome.UNKNOWN_SENDER and row.subject == "Impressora parada"
    assert clients_count(tenants.a.id) == before


@pytest.mark.usefixtures("ctx", "known_domain")
def test_a_deactivated_user_makes_no_second_client(app, run_jobs, tenants, ana):
    db.session.get(Account, ana.id).active = False
    db.session.commit()
    before = clients_count(tenants.a.id)
    assert deliver(app, run_jobs, mail()).outcome == IntakeOutcome.UNKNOWN_SENDER
    assert clients_count(tenants.a.id) == before


@pytest.mark.usefixtures("ctx", "known_domain")
def test_a_known_clients_sender_on_a_desk_that_does_not_serve_it_waits(app, run_jobs, factory, tenants, ana):
    factory.desk(tenants.a.id, name="Vendas", intake_email="vendas@a.test")  # serves nobody
    row = deliver(app, run_jobs, mail(sender="bruno@cliente.test", to="vendas@a.test"))
    assert row.outcome == IntakeOutcome.UNKNOWN_SENDER
    made = (
        select(Account.id)
        .join(Login, Login.id == Account.login_id)
        .where(Login.email == "bruno@cliente.test")
    )
    assert db.session.scalars(made).all() == []  # the user made for it went with the wait


@pytest.mark.usefixtures("ctx", "known_domain")
def test_colleagues_in_cc_become_users_and_follow_at_most_forty(app, run_jobs, tenants, desk_a, ana):
    colleagues = [f"colega{n}@cliente.test" for n in range(strangers.MAX_CC_PEOPLE + 5)]
    message = mail()
    copied = ", ".join([*colleagues, "amigo@gmail.com", "x@outra-empresa.test"])
    raw = message.replace(f"To: {DESK_ADDRESS}".encode(), f"To: {DESK_ADDRESS}\nCc: {copied}".encode())
    row = deliver(app, run_jobs, raw)
    ticket = db.session.get(Ticket, row.ticket_id)
    following = {a.email for a in followers(ticket)}
    assert len(following) == strangers.MAX_CC_PEOPLE
    assert following <= set(colleagues)
    made = db.session.scalar(
        select(func.count()).select_from(Account).where(Account.client_id == tenants.a.client.id)
    )
    assert made == 1 + 1 + strangers.MAX_CC_PEOPLE  # the contact, Ana, the forty
    assert SENDER not in following


@pytest.mark.usefixtures("ctx")
def test_a_from_that_pretends_two_addresses_is_nobodys(app, run_jobs, tenants, desk_a, ana):
    raw = mail().replace(f"From: Ana <{SENDER}>".encode(), f"From: {SENDER} <atacante@mal.test>".encode())
    before = clients_count(tenants.a.id)
    row = deliver(app, run_jobs, raw)
    assert row.outcome == IntakeOutcome.UNKNOWN_SENDER and row.sender is None
    assert clients_count(tenants.a.id) == before


@pytest.mark.usefixtures("ctx")
def test_past_the_hourly_limit_new_senders_wait(app, run_jobs, factory, tenants, desk_a, monkeypatch):
    monkeypatch.setattr(strangers, "MAX_CLIENTS_PER_HOUR", 2)
    outcomes = [
        deliver(app, run_jobs, mail(sender=f"pessoa@empresa{n}.test", message_id=f"<n{n}@x>")).outcome
        for n in range(3)
    ]
    assert outcomes == [
        IntakeOutcome.TICKET_OPENED,
        IntakeOutcome.TICKET_OPENED,
        IntakeOutcome.UNKNOWN_SENDER,
    ]


@pytest.mark.usefixtures("ctx", "known_domain")
def test_an_invited_user_who_has_not_accepted_is_not_written_as(app, run_jobs, tenants, desk_a, ana):
    account = db.session.get(Account, ana.id)
    account.awaiting_acceptance = True
    db.session.commit()
    assert deliver(app, run_jobs, mail()).outcome == IntakeOutcome.UNKNOWN_SENDER


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        ("mx.plataforma.test; spf=fail smtp.mailfrom=mal.test; dmarc=fail header.from=cliente.test", "waits"),
        ("mx.plataforma.test; dkim=pass; dmarc=pass header.from=cliente.test", "opens"),
        ("mx.outro.test; dmarc=fail header.from=cliente.test", "opens"),  # not the server we trust
    ],
)
def test_a_from_our_receiving_server_says_failed_dmarc_is_nobodys(
    app, run_jobs, tenants, ana, monkeypatch, results, outcome
):
    monkeypatch.setitem(app.config, "MAIL_AUTHSERV_ID", "mx.plataforma.test")
    raw = mail().replace(b"Subject:", f"Authentication-Results: {results}\nSubject:".encode(), 1)
    row = deliver(app, run_jobs, raw)
    expected = IntakeOutcome.UNKNOWN_SENDER if outcome == "waits" else IntakeOutcome.TICKET_OPENED
    assert row.outcome == expected

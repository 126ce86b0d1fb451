"""The SMTP listener (issue 14, ``flask --app wsgi mail-intake``): a real SMTP
conversation (smtplib) with the listener started on a free port stores the message
with its envelope through the webhook's function; a message over 30 MB is refused with
552 and a sentence the sender understands, and nothing is kept."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from core.extensions import db
from core.storage import get_storage
from desk.mail_markers import reply_address
from intake import inbox
from intake.models import InboundMessage
from intake.smtp import listener
from intake.states import ReceivedVia

RAW = (
    b"From: Ana <ana@cliente.test>\r\nTo: suporte@a.test\r\nSubject: Impressora parada\r\n"
    b"Message-ID: <smtp1@cliente.test>\r\n\r\nA impressora parou.\r\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_listener(app, factory, tenants):
    """The listener, with reseller A's two desks receiving suporte@ and financeiro@a.test."""
    for name, address in (("Suporte", "suporte@a.test"), ("Financeiro", "financeiro@a.test")):
        factory.desk(tenants.a.id, name=name, client_ids=[tenants.a.client.id], intake_email=address)
    port = free_port()
    controller = listener(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def rows(app) -> list[InboundMessage]:
    with app.app_context():
        found = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def kept_files(app) -> list[Path]:
    folder = Path(app.config["STORAGE_DIR"]) / "intake"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_message_sent_by_smtp_is_stored_with_its_envelope(app, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as smtp:
        refused = smtp.sendmail("bounce@cliente.test", ["suporte@a.test", "financeiro@a.test"], RAW)
    assert refused == {}
    [row] = rows(app)
    assert row.received_via == ReceivedVia.SMTP
    assert row.envelope_sender == "bounce@cliente.test"
    assert row.envelope_recipients == ["suporte@a.test", "financeiro@a.test"]
    with app.app_context(), get_storage().open(row.storage_key) as kept:
        assert kept.read() == RAW
    assert row.size == len(RAW)


def test_a_recipient_nobody_receives_is_refused_at_rcpt_and_nothing_is_kept(
    app, factory, tenants, smtp_listener
):
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("spam@fora.test")
        code, message = smtp.rcpt("ninguem@outro-dominio.test")
        assert code == 550 and b"No such recipient" in message
        assert smtp.rcpt("SUPORTE@a.test")[0] == 250  # addresses are not case-sensitive
        smtp.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("spam@fora.test", ["ninguem@outro-dominio.test"], RAW)
    assert rows(app) == [] and kept_files(app) == []


def test_a_tickets_reply_address_and_a_default_desk_domain_are_received(app, factory, tenants, smtp_listener):
    ticket = factory.ticket(tenants.a.client.id)
    factory.desk(tenants.a.id, name="Geral", intake_email="geral@a.test", mail_default=True)
    with app.app_context():
        address = reply_address(ticket.id, app.config["SECRET_KEY"], "respostas.plataforma.test")
        forged = reply_address(ticket.id, "not our secret", "respostas.plataforma.test")
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("ana@cliente.test")
        assert smtp.rcpt(address)[0] == 250
        assert smtp.rcpt("contato@a.test")[0] == 250  # reseller A's domain: its default desk
        assert smtp.rcpt(forged)[0] == 550


def big_message() -> bytes:
    head = b"From: ana@cliente.test\r\nTo: suporte@a.test\r\nSubject: grande\r\n\r\n"
    line = b"x" * 998 + b"\r\n"
    return head + line * (inbox.MAX_MESSAGE_BYTES // len(line) + 1)


def test_a_message_declared_over_30_mb_is_refused_with_a_clear_552(app, smtp_listener):
    with (
        smtplib.SMTP("127.0.0.1", smtp_listener, timeout=30) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        smtp.sendmail("ana@cliente.test", ["suporte@a.test"], big_message())
    assert refused.value.smtp_code == 552
    assert b"up to 30 MB" in refused.value.smtp_error
    assert rows(app) == [] and kept_files(app) == []


def test_a_25_mb_attachment_is_over_the_30_mb_message_limit_once_encoded(app, smtp_listener):
    """The corpus's 25 MB attachment: base64 makes it about 34 MB, over the limit, so the
    sender's own server bounces it with our sentence (files that large go as a link)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ana@cliente.test", "suporte@a.test", "Planilha"
    message.set_content("Segue a planilha.")
    message.add_attachment(
        b"\x00" * (25 * 1024 * 1024), maintype="application", subtype="zip", filename="dados.zip"
    )
    raw = message.as_bytes()
    assert len(raw) > inbox.MAX_MESSAGE_BYTES
    with (
        smtplib.SMTP("127.0.0.1", smtp_listener, timeout=60) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        smtp.sendmail("ana@cliente.test", ["suporte@a.test"], raw)
    assert refused.value.smtp_code == 552 and b"download link" in refused.value.smtp_error
    assert rows(app) == [] and kept_files(app) == []


def test_a_message_over_30_mb_without_a_declared_size_is_refused_after_its_data(app, smtp_listener):
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.mail("ana@cliente.test")[0] == 250  # no SIZE= declared
        assert smtp.rcpt("suporte@a.test")[0] == 250
        code, text = smtp.data(big_message())  # smtplib returns the reply after the data
    assert code == 552
    assert b"up to 30 MB" in text
    assert rows(app) == [] and kept_files(app) == []


def test_the_command_is_registered(app):
    assert "mail-intake" in app.cli.commands


def test_the_procfile_runs_the_listener():
    procfile = (Path(__file__).resolve().parent.parent / "Procfile").read_text(encoding="utf-8")
    assert "mail: flask --app wsgi mail-intake" in procfile.splitlines()

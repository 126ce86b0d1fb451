"""What a received e-mail's body and files become (issue 14): its HTML, sanitised and cut
where the quoted history starts, is kept beside the trimmed text; inline images are kept
as the ticket's files and shown in place; a file the ticket rules refuse (or one past the
limit) is left out with a note on the timeline, never the whole message."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select

from core.extensions import db
from desk.states import EntryKind, EventType
from desk.ticket_models import Ticket, TicketAttachment, TicketEntry
from intake import processing
from intake.states import IntakeOutcome
from tests import test_intake_processing as processing_tests
from tests.test_intake_processing import DESK_ADDRESS, SENDER, deliver

desk_a = processing_tests.desk_a
ana = processing_tests.ana
# A real 2x2 PNG (a browser draws it).
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9as"
    b"\x00\x00\x00\x11IDATx\x9cc\xf8\xcf\xc0\x00D\x0c`\xf2?\x00\x1b\xf2\x03\xfd\xf3\xe7K\xb1\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00"


def html_mail(html: str, text: str, *, subject="Impressora parada", inline=(), files=(), message_id="<h1@x>"):
    """A multipart/alternative message (text and HTML), the HTML with related images."""
    message = EmailMessage()
    message["From"] = f"Ana <{SENDER}>"
    message["To"] = DESK_ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for cid, content in inline:
        html_part.add_related(content, "image", "png", cid=f"<{cid}>")
    for name, content, maintype, subtype in files:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


GMAIL_REPLY_HTML = (
    '<div dir="ltr">Voltou a funcionar, <b>obrigada</b>!<br><img src="cid:assinatura@ana" alt="logo">'
    '<script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">clique</a></div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Em ter., 1 de dez. de 2026, Suporte '
    "escreveu:<br></div><blockquote>Reinicie o roteador.</blockquote></div>"
)
GMAIL_REPLY_TEXT = (
    "Voltou a funcionar, *obrigada*!\n\n"
    "Em ter., 1 de dez. de 2026, Suporte escreveu:\n> Reinicie o roteador.\n"
)


def gmail_html_reply(app, run_jobs, factory, client_id: int, desk_id: int):
    """A ticket of the client and Ana's Gmail HTML reply to it (an inline image in her
    signature) processed: (ticket, inbox row)."""
    with app.app_context():
        ticket = factory.ticket(client_id, desk_id=desk_id)
        subject = f"Re: [#{ticket.number}] Help"
    raw = html_mail(GMAIL_REPLY_HTML, GMAIL_REPLY_TEXT, subject=subject, inline=[("assinatura@ana", PNG)])
    return ticket, deliver(app, run_jobs, raw)


@pytest.mark.usefixtures("ctx")
def test_an_html_reply_keeps_its_new_part_sanitised_with_its_inline_image(
    app, run_jobs, factory, tenants, desk_a, ana
):
    _ticket, row = gmail_html_reply(app, run_jobs, factory, tenants.a.client.id, desk_a.id)
    assert row.outcome == IntakeOutcome.REPLY_ADDED
    entry = db.session.get(TicketEntry, row.entry_id)
    assert entry.kind == EntryKind.PUBLIC_REPLY and entry.body == "Voltou a funcionar, *obrigada*!"
    assert "<b>obrigada</b>" in entry.body_html and 'src="cid:assinatura@ana"' in entry.body_html
    for gone in ("<script", "alert(1)", "javascript:", "onclick", "Reinicie o roteador", "gmail_quote"):
        assert gone not in entry.body_html
    [image] = db.session.scalars(select(TicketAttachment).where(TicketAttachment.entry_id == entry.id))
    assert image.content_id == "assinatura@ana" and image.content_type == "image/png"


@pytest.mark.usefixtures("ctx")
def test_html_whose_history_cannot_be_found_is_not_kept_when_the_text_was_trimmed(
    app, run_jobs, factory, tenants, desk_a, ana
):
    ticket = factory.ticket(tenants.a.client.id, desk_id=desk_a.id)
    html = "<p>Voltou.</p><p>Em ter., Suporte escreveu:</p><p>&gt; Reinicie.</p>"
    text = "Voltou.\n\nEm ter., 1 de dez. de 2026, Suporte escreveu:\n> Reinicie.\n"
    row = deliver(app, run_jobs, html_mail(html, text, subject=f"Re: [#{ticket.number}]"))
    entry = db.session.get(TicketEntry, row.entry_id)
    assert entry.body == "Voltou." and entry.body_html is None


@pytest.mark.usefixtures("ctx")
def test_a_new_ticket_keeps_its_whole_html(app, run_jobs, tenants, ana):
    html = "<p>A impressora <i>parou</i>.</p><ul><li>modelo X</li></ul>"
    row = deliver(app, run_jobs, html_mail(html, "A impressora parou.\n- modelo X"))
    ticket = db.session.get(Ticket, row.ticket_id)
    assert ticket.description == "A impressora parou.\n- modelo X"
    assert ticket.description_html == html


@pytest.mark.usefixtures("ctx")
def test_a_refused_file_is_left_out_and_told_the_message_is_kept(app, run_jobs, tenants, ana):
    files = [("programa.exe", PE, "application", "octet-stream"), ("foto.png", PNG, "image", "png")]
    row = deliver(app, run_jobs, html_mail("<p>Segue.</p>", "Segue.", files=files))
    assert row.outcome == IntakeOutcome.TICKET_OPENED
    names = db.session.scalars(
        select(TicketAttachment.filename).where(TicketAttachment.ticket_id == row.ticket_id)
    )
    assert list(names) == ["foto.png"]
    [event] = [
        e
        for e in db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == row.ticket_id))
        if e.event and e.event["type"] == EventType.MAIL_FILES_REFUSED
    ]
    [refused] = event.event["after"]["files"]
    assert refused["name"] == "programa.exe" and refused["reason"]


@pytest.mark.usefixtures("ctx")
def test_files_past_the_limit_are_left_out_and_told(app, run_jobs, tenants, ana):
    files = [(f"f{n:02d}.png", PNG, "image", "png") for n in range(processing.MAIL_MAX_FILES + 2)]
    row = deliver(app, run_jobs, html_mail("<p>Fotos.</p>", "Fotos.", files=files))
    stored = db.session.scalars(
        select(TicketAttachment.filename).where(TicketAttachment.ticket_id == row.ticket_id)
    )
    assert len(list(stored)) == processing.MAIL_MAX_FILES
    [event] = [
        e
        for e in db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == row.ticket_id))
        if e.event and e.event["type"] == EventType.MAIL_FILES_REFUSED
    ]
    assert [f["name"] for f in event.event["after"]["files"]] == ["f20.png", "f21.png"]
